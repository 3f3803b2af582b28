package dalle2.trainer.worker;

import dalle2.json.Json;
import dalle2.storage.ObjectStore;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.stream.Stream;

/**
 * A training's resume state in object storage, so that any trainer worker can continue a run whose worker died:
 * the run folder's {@code checkpoint/} and the files beside it that a resume reads (the model config, CLIP's
 * tokenizer, the loss log), in the format {@code dalle2 train --resume} reads locally.
 *
 * <p>Keys: {@code trainings/<id>/checkpoint/step-<N>/<path in the run folder>}, then
 * {@code trainings/<id>/checkpoint/latest.json} naming step N and its files. The pointer is written last and
 * older steps are deleted after it, so a worker dying mid-upload leaves the previous checkpoint whole and named.
 */
final class CheckpointStore {

    static final String LATEST = "latest.json";

    /** latest.json: which step the newest complete checkpoint is and which files make it. */
    record Latest(long step, List<String> files) {
    }

    private final ObjectStore store;

    CheckpointStore(ObjectStore store) {
        this.store = store;
    }

    static String prefix(String trainingId) {
        return "trainings/" + trainingId + "/checkpoint/";
    }

    /** Uploads the run folder's resume state of {@code step}, then points latest.json at it. */
    void upload(String trainingId, Path runDir, long step) throws IOException {
        String stepPrefix = prefix(trainingId) + "step-" + step + "/";
        List<String> files = resumeFiles(runDir);
        for (String file : files) {
            store.put(stepPrefix + file, Files.readAllBytes(runDir.resolve(file)), "application/octet-stream");
        }
        store.put(prefix(trainingId) + LATEST, Json.writeBytes(new Latest(step, files)), "application/json");
        for (String key : store.list(prefix(trainingId))) {
            if (key.startsWith(prefix(trainingId) + "step-") && !key.startsWith(stepPrefix)) {
                store.delete(key);
            }
        }
    }

    /** Writes the newest checkpoint into {@code runDir}; returns its step, or empty when the training has none. */
    OptionalLong download(String trainingId, Path runDir) throws IOException {
        Optional<Latest> latest = latest(trainingId);
        if (latest.isEmpty()) {
            return OptionalLong.empty();
        }
        String stepPrefix = prefix(trainingId) + "step-" + latest.get().step() + "/";
        for (String file : latest.get().files()) {
            Path target = runDir.resolve(file).normalize();
            if (!target.startsWith(runDir.normalize())) {
                throw new IOException("checkpoint file " + file + " would land outside the run folder");
            }
            Files.createDirectories(target.getParent());
            try (InputStream in = store.get(stepPrefix + file)
                    .orElseThrow(() -> new IOException("checkpoint of step " + latest.get().step() + " lacks " + file))) {
                Files.write(target, in.readAllBytes());
            }
        }
        return OptionalLong.of(latest.get().step());
    }

    Optional<Latest> latest(String trainingId) throws IOException {
        Optional<InputStream> in = store.get(prefix(trainingId) + LATEST);
        if (in.isEmpty()) {
            return Optional.empty();
        }
        try (InputStream stream = in.get()) {
            return Optional.of(Json.read(stream.readAllBytes(), Latest.class));
        }
    }

    /** {@code checkpoint/**} and the run folder's own files; not the model, samples, embeddings or temporaries. */
    static List<String> resumeFiles(Path runDir) throws IOException {
        List<String> files = new ArrayList<>();
        try (Stream<Path> top = Files.list(runDir)) {
            top.filter(Files::isRegularFile).map(p -> p.getFileName().toString()).sorted().forEach(files::add);
        }
        Path checkpoint = runDir.resolve("checkpoint");
        try (Stream<Path> walk = Files.walk(checkpoint)) {
            walk.filter(Files::isRegularFile).map(p -> runDir.relativize(p).toString().replace('\\', '/')).sorted()
                    .forEach(files::add);
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
        return files;
    }
}
