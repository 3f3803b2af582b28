package dalle2.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import dalle2.djl.DjlRuntime;
import dalle2.json.Json;
import dalle2.sampling.DdimSampler;
import dalle2.sampling.PredictionType;
import dalle2.training.AdamW;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PriorTest {

    @BeforeAll
    static void offline() {
        DjlRuntime.configure();
    }

    /** B unit vectors of width D drawn from a Java Random, so every run sees the same embeddings. */
    static NDArray unitVectors(NDManager manager, int batch, int dim, long seed) {
        Random random = new Random(seed);
        float[] values = new float[batch * dim];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) random.nextGaussian();
        }
        return manager.create(values, new Shape(batch, dim)).normalize(2, 1, 1e-12);
    }

    private static float maxDifference(NDArray a, NDArray b) {
        return a.sub(b).abs().max().getFloat();
    }

    private static NDList inputs(NDManager manager, PriorConfig config, int batch, long seed) {
        NDArray noisy = manager.randomNormal(new Shape(batch, config.embeddingDim()));
        NDArray timesteps = manager.create(new long[batch]).add(417);
        NDArray text = unitVectors(manager, batch, config.embeddingDim(), seed).mul((float) config.embeddingScale());
        return new NDList(noisy, timesteps, text, manager.ones(new Shape(batch)));
    }

    @Test
    void earlierTokensNeverSeeLaterOnes() {
        try (NDManager manager = DjlRuntime.newManager(); Prior prior = Prior.create(PriorConfig.tiny(), manager)) {
            PriorTransformer network = prior.network();
            ParameterStore ps = new ParameterStore(manager, false);
            NDList base = inputs(manager, prior.config(), 3, 1);
            NDArray reference = network.tokens(ps, base, false);                         // (3, 4, W)

            // a different noised image embedding (token 2) changes tokens 2 and 3 only
            NDList otherImage = new NDList(base.get(0).add(1.5f), base.get(1), base.get(2), base.get(3));
            NDArray changed = network.tokens(ps, otherImage, false);
            assertEquals(0f, maxDifference(reference.get(":, 0:2, :"), changed.get(":, 0:2, :")), 1e-6f);
            assertTrue(maxDifference(reference.get(":, 2, :"), changed.get(":, 2, :")) > 1e-3f);
            assertTrue(maxDifference(reference.get(":, 3, :"), changed.get(":, 3, :")) > 1e-3f);

            // a different timestep (token 1) leaves the text token alone
            NDList otherTime = new NDList(base.get(0), base.get(1).add(300), base.get(2), base.get(3));
            changed = network.tokens(ps, otherTime, false);
            assertEquals(0f, maxDifference(reference.get(":, 0, :"), changed.get(":, 0, :")), 1e-6f);
            assertTrue(maxDifference(reference.get(":, 1:4, :"), changed.get(":, 1:4, :")) > 1e-3f);

            // and the text (token 0) reaches every later token, the query's output included
            NDList otherText = new NDList(base.get(0), base.get(1), base.get(2).neg(), base.get(3));
            changed = network.tokens(ps, otherText, false);
            assertTrue(maxDifference(reference.get(":, 3, :"), changed.get(":, 3, :")) > 1e-3f);
        }
    }

    @Test
    void predictsOneEmbeddingPerSampleAtTheSeedSizeAndTheTinySize() {
        for (PriorConfig config : new PriorConfig[] {PriorConfig.seed(), PriorConfig.tiny()}) {
            try (NDManager manager = DjlRuntime.newManager(); Prior prior = Prior.create(config, manager)) {
                NDList in = inputs(manager, config, 2, 3);
                NDArray out = prior.predict(in.get(0), in.get(1), in.get(2), in.get(3));
                assertEquals(new Shape(2, config.embeddingDim()), out.getShape());
                NDArray sample = prior.sample(unitVectors(manager, 2, config.embeddingDim(), 4), 2, 0f, 2f, new long[] {1, 2});
                assertEquals(new Shape(2, config.embeddingDim()), sample.getShape());
            }
        }
        assertEquals(512, PriorConfig.seed().embeddingDim());
        assertEquals(512, PriorConfig.seed().width());
        assertEquals(6, PriorConfig.seed().depth());
        assertEquals(8, PriorConfig.seed().heads());
    }

    @Test
    void keepZeroReplacesTheTextByTheLearnedNullEmbedding() {
        try (NDManager manager = DjlRuntime.newManager(); Prior prior = Prior.create(PriorConfig.tiny(), manager)) {
            NDList in = inputs(manager, prior.config(), 2, 5);
            NDArray zeros = manager.zeros(new Shape(2));
            NDArray otherText = unitVectors(manager, 2, 16, 6).mul(4f);
            NDArray dropped = prior.predict(in.get(0), in.get(1), in.get(2), zeros);
            NDArray droppedOther = prior.predict(in.get(0), in.get(1), otherText, zeros);
            NDArray conditional = prior.predict(in.get(0), in.get(1), in.get(2), in.get(3));
            NDArray nullAsText = prior.predict(in.get(0), in.get(1),
                    prior.network().nullTextEmbedding().reshape(1, 16).repeat(0, 2), in.get(3));
            assertEquals(0f, maxDifference(dropped, droppedOther), 1e-6f, "the text is ignored");
            assertEquals(0f, maxDifference(dropped, nullAsText), 1e-5f, "the null embedding takes its place");
            assertTrue(maxDifference(dropped, conditional) > 1e-3f);
        }
    }

    @Test
    void guidanceOneIsTheConditionalPassAndZeroTheUnconditionalOne() {
        try (NDManager manager = DjlRuntime.newManager(); Prior prior = Prior.create(PriorConfig.tiny(), manager)) {
            NDArray text = unitVectors(manager, 2, 16, 7);
            long[] seeds = {11, 12};
            DdimSampler plain = new DdimSampler(prior.scheduler(), prior.prediction(), 0f);
            NDArray scaled = text.mul(prior.embeddingScale());
            NDArray conditional = plain.sample((x, t, c, keep) -> prior.predict(x, t, c, keep.onesLike()),
                    scaled, new Shape(16), 10, 0f, 1f, seeds).normalize(2, 1, 1e-12);
            NDArray unconditional = plain.sample((x, t, c, keep) -> prior.predict(x, t, c, keep.zerosLike()),
                    scaled, new Shape(16), 10, 0f, 1f, seeds).normalize(2, 1, 1e-12);

            assertEquals(0f, maxDifference(prior.sample(text, 10, 0f, 1f, seeds), conditional), 1e-6f);
            // guidance 0 runs the doubled batch: its unconditional half must be the keep = 0 pass
            assertEquals(0f, maxDifference(prior.sample(text, 10, 0f, 0f, seeds), unconditional), 1e-5f);
            assertTrue(maxDifference(conditional, unconditional) > 1e-3f);
            assertTrue(maxDifference(prior.sample(text, 10, 0f, 3f, seeds), conditional) > 1e-3f);
        }
    }

    @Test
    void savedAndLoadedPriorGivesIdenticalOutputs(@TempDir Path dir) throws Exception {
        try (NDManager manager = DjlRuntime.newManager(); Prior prior = Prior.create(PriorConfig.tiny(), manager)) {
            prior.save(dir);
            NDArray text = unitVectors(manager, 3, 16, 8);
            try (Prior loaded = Prior.load(dir, manager)) {
                assertEquals(prior.config(), loaded.config());
                NDList in = inputs(manager, prior.config(), 3, 9);
                assertArrayEquals(prior.predict(in.get(0), in.get(1), in.get(2), in.get(3)).toFloatArray(),
                        loaded.predict(in.get(0), in.get(1), in.get(2), in.get(3)).toFloatArray());
                assertArrayEquals(prior.sample(text, 5, 0.5f, 2f, new long[] {1, 2, 3}).toFloatArray(),
                        loaded.sample(text, 5, 0.5f, 2f, new long[] {1, 2, 3}).toFloatArray());
            }
        }
    }

    @Test
    void configJsonIsSnakeCaseAndKeepsTheEmbeddingScale(@TempDir Path dir) throws Exception {
        try (NDManager manager = DjlRuntime.newManager(); Prior prior = Prior.create(PriorConfig.tiny(), manager)) {
            prior.save(dir);
        }
        String json = Files.readString(dir.resolve(Prior.CONFIG_FILE));
        for (String field : new String[] {"\"model_type\" : \"prior\"", "\"format_version\" : 1", "\"embedding_dim\" : 16",
                "\"mlp_ratio\" : 4", "\"schedule\" : \"cosine\"", "\"prediction\" : \"sample\"", "\"embedding_scale\" : 4.0",
                "\"conditioning_dropout\" : 0.1"}) {
            assertTrue(json.contains(field), field + " in " + json);
        }
        assertEquals(PriorConfig.tiny(), Json.read(json, PriorConfig.class));
    }

    @Test
    void aConfigThatDoesNotMatchTheWeightsIsRefusedNamingTheMismatch(@TempDir Path dir) throws Exception {
        try (NDManager manager = DjlRuntime.newManager()) {
            try (Prior prior = Prior.create(PriorConfig.tiny(), manager)) {
                prior.save(dir);
            }
            Path config = dir.resolve(Prior.CONFIG_FILE);
            String original = Files.readString(config);
            Files.writeString(config, original.replace("\"width\" : 32", "\"width\" : 64"));
            IllegalArgumentException wrongWidth = assertThrows(IllegalArgumentException.class, () -> Prior.load(dir, manager));
            assertTrue(wrongWidth.getMessage().contains("do not match its config.json"), wrongWidth.getMessage());
            assertTrue(wrongWidth.getMessage().contains("(16, 64)") || wrongWidth.getMessage().contains("(64"),
                    wrongWidth.getMessage());

            Files.writeString(config, original.replace("\"heads\" : 4", "\"heads\" : 5"));
            IllegalArgumentException badHeads = assertThrows(IllegalArgumentException.class, () -> Prior.load(dir, manager));
            assertTrue(badHeads.getMessage().contains("width 32 is not divisible by heads 5"), badHeads.getMessage());

            Files.writeString(config, original.replace("\"model_type\" : \"prior\"", "\"model_type\" : \"decoder\""));
            IllegalArgumentException decoder = assertThrows(IllegalArgumentException.class, () -> Prior.load(dir, manager));
            assertTrue(decoder.getMessage().contains("model_type must be 'prior'"), decoder.getMessage());
        }
    }

    @Test
    void theLossIsTheMseToTheScaledImageEmbeddingOrToTheNoiseOfTheScaledNoisingProcess() {
        for (PredictionType type : new PredictionType[] {PredictionType.SAMPLE, PredictionType.EPSILON}) {
            try (NDManager manager = DjlRuntime.newManager();
                 Prior prior = Prior.create(PriorConfig.tiny().withPrediction(type), manager)) {
                NDArray texts = unitVectors(manager, 3, 16, 70);
                NDArray images = unitVectors(manager, 3, 16, 71);
                NDArray timesteps = manager.create(new long[] {0, 500, 999});
                NDArray noise = manager.randomNormal(new Shape(3, 16));
                NDArray keep = manager.create(new float[] {1, 0, 1});
                float loss = prior.loss(new ParameterStore(manager, false), texts, images, timesteps, noise, keep).getFloat();

                float s = 4f;                                                   // √16
                NDArray alphaBar = prior.scheduler().alphaBar(timesteps).reshape(3, 1);
                NDArray noisy = images.mul(s).mul(alphaBar.sqrt()).add(noise.mul(alphaBar.neg().add(1f).sqrt()));
                NDArray output = prior.predict(noisy, timesteps, texts.mul(s), keep);
                NDArray target = type == PredictionType.SAMPLE ? images.mul(s) : noise;
                assertEquals(output.sub(target).square().mean().getFloat(), loss, 1e-4f, type.toString());
            }
        }
    }

    @Test
    void overfitsAHandfulOfFixedPairs() {
        DjlRuntime.engine().setRandomSeed(1234);                // fixed initial weights and evaluation noise
        try (NDManager manager = DjlRuntime.newManager(); Prior prior = Prior.create(PriorConfig.tiny(), manager);
             AdamW optimizer = AdamW.withWeightDecay(0f)) {
            NDArray texts = unitVectors(manager, 8, 16, 20);
            NDArray images = unitVectors(manager, 8, 16, 21);
            ParameterStore ps = new ParameterStore(manager, false);
            // a fixed evaluation batch: every pair at four noise levels, conditional
            NDArray evalTexts = texts.repeat(0, 4);
            NDArray evalImages = images.repeat(0, 4);
            NDArray evalTimesteps = manager.create(new long[] {50, 300, 600, 900}).repeat(8);
            NDArray evalNoise = manager.randomNormal(new Shape(32, 16));
            NDArray evalKeep = manager.ones(new Shape(32));
            float before = prior.loss(ps, evalTexts, evalImages, evalTimesteps, evalNoise, evalKeep).getFloat();
            Random rng = new Random(3);
            for (int step = 0; step < 80; step++) {
                try (NDManager scope = manager.newSubManager()) {
                    NDArray t = texts.duplicate();
                    t.attach(scope);
                    try (GradientCollector collector = DjlRuntime.engine().newGradientCollector()) {
                        collector.backward(prior.loss(ps, t, images, rng));
                    }
                    optimizer.step(prior.network(), 1e-2f);
                }
            }
            float after = prior.loss(ps, evalTexts, evalImages, evalTimesteps, evalNoise, evalKeep).getFloat();
            assertTrue(after * 10 <= before, "loss " + before + " -> " + after);
            // and sampling then lands near the memorized image embedding
            NDArray sampled = prior.sample(texts, 20, 0f, 1f, new long[] {1, 2, 3, 4, 5, 6, 7, 8});
            float meanCosine = sampled.mul(images).sum(new int[] {1}).mean().getFloat();
            assertTrue(meanCosine > 0.8f, "mean cosine to the target embedding " + meanCosine);
        }
    }

    @Test
    void aSampleIsTheSameAloneOrInsideALargerBatch() {
        try (NDManager manager = DjlRuntime.newManager(); Prior prior = Prior.create(PriorConfig.tiny(), manager)) {
            NDArray batch = unitVectors(manager, 5, 16, 30);
            NDArray inBatch = prior.sample(batch, 8, 0.7f, 3f, new long[] {101, 102, 103, 104, 105});
            NDArray alone = prior.sample(batch.get("3:4"), 8, 0.7f, 3f, new long[] {104});
            assertTrue(maxDifference(alone, inBatch.get("3:4")) <= 1e-5f);
            NDArray again = prior.sample(batch, 8, 0.7f, 3f, new long[] {101, 102, 103, 104, 105});
            assertArrayEquals(inBatch.toFloatArray(), again.toFloatArray());
            NDArray otherSeed = prior.sample(batch.get("3:4"), 8, 0.7f, 3f, new long[] {999});
            assertTrue(maxDifference(alone, otherSeed) > 1e-3f);
        }
    }

    @Test
    void sampledEmbeddingsAreUnitVectors() {
        try (NDManager manager = DjlRuntime.newManager(); Prior prior = Prior.create(PriorConfig.tiny(), manager)) {
            NDArray sampled = prior.sample(unitVectors(manager, 4, 16, 40), 6, 1f, 2f, new long[] {1, 2, 3, 4});
            float[] norms = sampled.norm(new int[] {1}).toFloatArray();
            for (float norm : norms) {
                assertEquals(1f, norm, 1e-5f);
            }
        }
    }

    @Test
    void samplingAndTrainingStepsLeaveNothingBehindInTheModelsManager() {
        try (NDManager manager = DjlRuntime.newManager(); Prior prior = Prior.create(PriorConfig.tiny(), manager);
             AdamW optimizer = AdamW.withWeightDecay(0.01f)) {
            NDManager model = prior.network().getParameters().valueAt(0).getArray().getManager();
            ParameterStore ps = new ParameterStore(manager, false);
            Random rng = new Random(1);
            Runnable trainStep = () -> {
                try (NDManager scope = manager.newSubManager()) {
                    NDArray texts = unitVectors(scope, 4, 16, 50);
                    try (GradientCollector collector = DjlRuntime.engine().newGradientCollector()) {
                        collector.backward(prior.loss(ps, texts, texts, rng));
                    }
                    optimizer.step(prior.network(), 1e-3f);
                }
            };
            trainStep.run();                                       // creates the optimizer moments
            int modelArrays = model.getManagedArrays().size();
            int rootArrays = manager.getManagedArrays().size();
            for (int i = 0; i < 5; i++) {
                trainStep.run();
                try (NDManager scope = manager.newSubManager()) {
                    prior.sample(unitVectors(scope, 2, 16, 60), 10, 0.5f, 2f, new long[] {1, 2});
                }
            }
            assertEquals(modelArrays, model.getManagedArrays().size());
            assertEquals(rootArrays, manager.getManagedArrays().size());
        }
    }
}
