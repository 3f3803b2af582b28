package dalle2.trainer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import dalle2.djl.DjlRuntime;
import dalle2.models.Prior;
import dalle2.models.PriorConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DallE2TrainerTest {

    private static final int PAIRS = 24;

    /** A tiny prior learning fixed random (text, image) embedding pairs: a real network, a real loss. */
    private static final class PairsTask implements TrainingTask {
        final Prior prior;
        final float[] text;
        final float[] image;
        final int dim;

        PairsTask(NDManager manager) {
            Engine.getInstance().setRandomSeed(1234); // the same initial weights in every run of a test
            prior = Prior.create(PriorConfig.tiny(), manager);
            dim = prior.config().embeddingDim();
            Random random = new Random(11);
            text = unitRows(random, PAIRS, dim);
            image = unitRows(random, PAIRS, dim);
        }

        @Override
        public String kind() {
            return "prior";
        }

        @Override
        public Block block() {
            return prior.network();
        }

        @Override
        public int size() {
            return PAIRS;
        }

        @Override
        public NDArray loss(ParameterStore ps, int[] batch, Random rng) {
            NDManager step = ps.getManager();
            return prior.loss(ps, rows(step, text, batch), rows(step, image, batch), rng);
        }

        @Override
        public void export(Path modelDir) throws IOException {
            prior.save(modelDir);
        }

        private NDArray rows(NDManager manager, float[] data, int[] batch) {
            float[] out = new float[batch.length * dim];
            for (int b = 0; b < batch.length; b++) {
                System.arraycopy(data, batch[b] * dim, out, b * dim, dim);
            }
            return manager.create(out, new Shape(batch.length, dim));
        }
    }

    private static TrainerOptions options(long steps) {
        return new TrainerOptions(steps, 8, 3e-3f, 3, 3e-4f, 0.01f, 1f, 0.9f, 1000, 5, 0, 5);
    }

    @Test
    void resumingFromACheckpointContinuesExactlyLikeAnUninterruptedRun(@TempDir Path dir) throws IOException {
        DjlRuntime.configure();
        try (NDManager manager = DjlRuntime.newManager()) {
            PairsTask straightTask = new PairsTask(manager);
            DallE2Trainer straight = new DallE2Trainer(straightTask, options(12), dir.resolve("straight"), manager);
            straight.train();

            PairsTask firstTask = new PairsTask(manager);
            DallE2Trainer first = new DallE2Trainer(firstTask, options(12), dir.resolve("resumed"), manager);
            for (int i = 0; i < 7; i++) {
                first.trainStep();
            }
            first.checkpoint();

            PairsTask secondTask = new PairsTask(manager);
            DallE2Trainer second = new DallE2Trainer(secondTask, options(12), dir.resolve("resumed"), manager);
            assertTrue(second.resume());
            assertEquals(7, second.step());
            second.train();

            assertEquals(12, second.step());
            assertParametersEqual(straightTask.block(), secondTask.block(), 1e-6f);
            // the exported (EMA) models agree too
            assertArrayEquals(Files.readAllBytes(dir.resolve("straight/model/weights.safetensors")),
                    Files.readAllBytes(dir.resolve("resumed/model/weights.safetensors")));
            // each step is logged once, also across the resume
            List<String> rows = Files.readAllLines(dir.resolve("resumed/losses.csv"));
            assertEquals(13, rows.size(), "header + 12 steps");
            assertTrue(Files.size(dir.resolve("resumed/loss.png")) > 0);
        }
    }

    @Test
    void trainingLowersTheLoss(@TempDir Path dir) throws IOException {
        try (NDManager manager = DjlRuntime.newManager()) {
            PairsTask task = new PairsTask(manager);
            DallE2Trainer trainer = new DallE2Trainer(task, new TrainerOptions(150, 8, 2e-3f, 10, 2e-4f, 0f, 1f,
                    0.99f, 1000, 50, 0, 5), dir, manager);
            float first = 0;
            for (int i = 0; i < 3; i++) {
                first += trainer.trainStep() / 3;
            }
            float last = 0;
            for (int i = 3; i < 150; i++) {
                float loss = trainer.trainStep();
                if (i >= 140) {
                    last += loss / 10;
                }
            }
            assertTrue(last < first / 3, "loss went from " + first + " to " + last);
        }
    }

    @Test
    void aCheckpointOfAnotherKindIsRefused(@TempDir Path dir) throws IOException {
        try (NDManager manager = DjlRuntime.newManager()) {
            PairsTask task = new PairsTask(manager);
            DallE2Trainer trainer = new DallE2Trainer(task, options(4), dir, manager);
            trainer.trainStep();
            trainer.checkpoint();
            Path state = dir.resolve("checkpoint/state.json");
            Files.writeString(state, Files.readString(state).replace("\"prior\"", "\"decoder\""));
            DallE2Trainer again = new DallE2Trainer(new PairsTask(manager), options(4), dir, manager);
            IllegalArgumentException error = assertThrows(IllegalArgumentException.class, again::resume);
            assertTrue(error.getMessage().contains("decoder checkpoint"), error.getMessage());
        }
    }

    @Test
    void batchesCoverEveryExampleOncePerEpoch(@TempDir Path dir) {
        try (NDManager manager = DjlRuntime.newManager()) {
            DallE2Trainer trainer = new DallE2Trainer(new PairsTask(manager), options(10), dir, manager);
            List<Integer> seen = new ArrayList<>();
            for (long step = 0; step < PAIRS / 8; step++) {
                for (int index : trainer.batchIndices(step)) {
                    seen.add(index);
                }
            }
            assertEquals(PAIRS, seen.stream().distinct().count());
            assertFalse(java.util.Arrays.equals(trainer.batchIndices(0), trainer.batchIndices(PAIRS / 8)),
                    "the next epoch is reshuffled");
        }
    }

    @Test
    void aBatchLargerThanTheDataIsRefusedWithTheFlagName(@TempDir Path dir) {
        try (NDManager manager = DjlRuntime.newManager()) {
            TrainerOptions tooBig = new TrainerOptions(10, 64, 1e-3f, 0, 0f, 0f, 1f, 0f, 10, 1, 0, 1);
            IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                    () -> new DallE2Trainer(new PairsTask(manager), tooBig, dir, manager));
            assertTrue(error.getMessage().contains("--batch-size"), error.getMessage());
        }
        IllegalArgumentException warmup = assertThrows(IllegalArgumentException.class,
                () -> new TrainerOptions(10, 8, 1e-3f, 10, 0f, 0f, 1f, 0f, 10, 1, 0, 1));
        assertTrue(warmup.getMessage().startsWith("--warmup must be below --steps (10)"), warmup.getMessage());
    }

    private static float[] unitRows(Random random, int rows, int dim) {
        float[] data = new float[rows * dim];
        for (int r = 0; r < rows; r++) {
            double norm = 0;
            for (int j = 0; j < dim; j++) {
                data[r * dim + j] = (float) random.nextGaussian();
                norm += data[r * dim + j] * data[r * dim + j];
            }
            for (int j = 0; j < dim; j++) {
                data[r * dim + j] /= (float) Math.sqrt(norm);
            }
        }
        return data;
    }

    private static void assertParametersEqual(Block expected, Block actual, float tolerance) {
        ai.djl.nn.ParameterList a = expected.getParameters();
        ai.djl.nn.ParameterList b = actual.getParameters();
        assertEquals(a.size(), b.size());
        for (int i = 0; i < a.size(); i++) {
            assertArrayEquals(a.valueAt(i).getArray().toFloatArray(), b.valueAt(i).getArray().toFloatArray(),
                    tolerance, a.keyAt(i));
        }
    }
}
