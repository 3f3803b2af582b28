package dalle2.trainer;

import com.fasterxml.jackson.annotation.JsonProperty;
import dalle2.json.Json;
import dalle2.models.ModelWeights;
import dalle2.training.AdamW;
import dalle2.training.Ema;
import ai.djl.ndarray.NDManager;
import dalle2.training.RandomState;
import dalle2.training.TensorFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.Random;
import java.util.stream.Stream;

/**
 * A training run's resume state in one folder: weights, optimizer moments, EMA weights, the step and the
 * trainer's random stream. Written to a sibling folder and swapped in, so a crash mid-write leaves the
 * previous checkpoint intact.
 */
final class Checkpoint {

    static final String STATE_FILE = "state.json";
    static final String WEIGHTS_FILE = "weights.safetensors";
    static final String OPTIMIZER_FILE = "optimizer.safetensors";
    static final String OPTIMIZER_SCALARS = "optimizer.json";
    static final String EMA_FILE = "ema.safetensors";
    static final String EMA_SCALARS = "ema.json";

    /** state.json: what is not a tensor. */
    record State(@JsonProperty("kind") String kind, @JsonProperty("step") long step,
                 @JsonProperty("random") String randomState) {

        Random random() {
            return RandomState.decode(randomState);
        }
    }

    private Checkpoint() {
    }

    static void save(Path dir, TrainingTask task, AdamW optimizer, Ema ema, long step, Random random,
                     NDManager manager) throws IOException {
        Path tmp = dir.resolveSibling(dir.getFileName() + ".tmp");
        deleteRecursively(tmp);
        Files.createDirectories(tmp);
        ModelWeights.save(task.block(), tmp.resolve(WEIGHTS_FILE));
        try (NDManager scope = manager.newSubManager()) {
            TensorFile.write(tmp.resolve(OPTIMIZER_FILE), optimizer.state(scope));
            Json.writeFile(tmp.resolve(OPTIMIZER_SCALARS), optimizer.scalars());
            if (ema != null) {
                TensorFile.write(tmp.resolve(EMA_FILE), ema.state(scope));
                Json.writeFile(tmp.resolve(EMA_SCALARS), ema.scalars());
            }
        }
        Json.writeFile(tmp.resolve(STATE_FILE), new State(task.kind(), step, RandomState.encode(random)));
        Path old = dir.resolveSibling(dir.getFileName() + ".old");
        deleteRecursively(old);
        if (Files.exists(dir)) {
            Files.move(dir, old, StandardCopyOption.ATOMIC_MOVE);
        }
        Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
        deleteRecursively(old);
    }

    static State load(Path dir, TrainingTask task, AdamW optimizer, Ema ema, NDManager manager) throws IOException {
        State state = Json.readFile(dir.resolve(STATE_FILE), State.class);
        ModelWeights.load(task.block(), dir.resolve(WEIGHTS_FILE), task.kind() + " checkpoint");
        try (NDManager scope = manager.newSubManager()) {
            optimizer.loadState(task.block(), TensorFile.read(dir.resolve(OPTIMIZER_FILE), scope),
                    Json.readFile(dir.resolve(OPTIMIZER_SCALARS), AdamW.Scalars.class));
            if (ema != null) {
                if (!Files.isRegularFile(dir.resolve(EMA_FILE))) {
                    throw new IOException("checkpoint " + dir + " has no EMA weights but --ema is set");
                }
                ema.loadState(TensorFile.read(dir.resolve(EMA_FILE), scope),
                        Json.readFile(dir.resolve(EMA_SCALARS), Ema.Scalars.class));
            }
        }
        return state;
    }

    /** Deletes a folder and all in it; nothing when it is not there (another process may delete it too). */
    static void deleteRecursively(Path path) throws IOException {
        if (!Files.exists(path)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(path)) {
            for (Path p : (Iterable<Path>) walk.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        }
    }
}
