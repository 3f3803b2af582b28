package dalle2.trainer.worker;

import dalle2.messages.TrainingRequest;
import dalle2.messages.TrainingStatus;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The model card a trainer worker writes beside the weights it publishes: what the model was trained on, from
 * what, for how long, how its loss went, and the submission that reproduces it. It is a document of the
 * version, not part of what the version is named by.
 */
final class TrainingModelCard {

    static final String FILE = "MODEL_CARD.md";

    private TrainingModelCard() {
    }

    static Path write(Path modelDir, TrainingRequest request, TrainingStatus status, String clipVersion,
                      String workerId, Instant finishedAt) throws IOException {
        StringBuilder card = new StringBuilder();
        card.append("# ").append(request.model()).append(", training ").append(request.trainingId()).append("\n\n");
        card.append("Trained by a trainer worker (`./dalle2 trainer-worker`) from a job submitted with "
                + "`POST /v1/trainings`.\n\n");
        card.append("| | |\n|---|---|\n");
        row(card, "model", request.model());
        row(card, "dataset", "`" + request.dataset() + "` (resolved in the worker's `--data-dir`)");
        row(card, "steps", Long.toString(request.steps()));
        row(card, "started from", request.baseVersion() == null ? "random initialisation" : request.baseVersion());
        if (clipVersion != null) {
            row(card, "CLIP (embedding space)", clipVersion);
        }
        Map<String, Object> hyperParameters = request.hyperParameters() == null ? Map.of()
                : new TreeMap<>(request.hyperParameters());
        row(card, "hyper-parameters", hyperParameters.isEmpty() ? "the defaults of `dalle2 train " + request.model()
                + "`" : hyperParameters.toString() + " (the rest: the defaults of `dalle2 train " + request.model() + "`)");
        row(card, "worker", workerId + (status.attempts() > 1 ? " (attempt " + status.attempts()
                + ", resumed from a checkpoint)" : ""));
        if (status.startedAt() != null) {
            Duration took = Duration.between(Instant.parse(status.startedAt()), finishedAt);
            row(card, "wall time", String.format(Locale.ROOT, "%.1f min, from %s to %s (the last attempt)",
                    took.toMillis() / 60_000.0, status.startedAt(), finishedAt));
        }
        List<TrainingStatus.LossPoint> losses = status.losses();
        if (!losses.isEmpty()) {
            TrainingStatus.LossPoint first = losses.get(0);
            TrainingStatus.LossPoint last = losses.get(losses.size() - 1);
            row(card, "loss", String.format(Locale.ROOT, "%.4f at step %d → %.4f at step %d", first.loss(),
                    first.step(), last.loss(), last.step()));
        }
        card.append("\nNo evaluation ran with this training: run `./dalle2 eval` on the published folder for "
                + "recognition, retrieval and Fréchet figures before pinning it.\n\n");
        card.append("Reproduce: `./dalle2 trainings submit --model ").append(request.model()).append(" --dataset '")
                .append(request.dataset()).append("' --steps ").append(request.steps());
        hyperParameters.forEach((name, value) -> card.append(" --set ").append(name).append('=').append(value));
        if (request.baseVersion() != null) {
            card.append(" --base-version ").append(request.baseVersion());
        }
        card.append("`\n");
        Path file = modelDir.resolve(FILE);
        Files.writeString(file, card.toString());
        return file;
    }

    private static void row(StringBuilder card, String name, String value) {
        card.append("| ").append(name).append(" | ").append(value.replace("|", "\\|")).append(" |\n");
    }
}
