package dalle2.models;

import static dalle2.models.DecoderUNetTest.maxDifference;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import dalle2.djl.DjlRuntime;
import dalle2.messages.SamplerKind;
import dalle2.sampling.Sampler;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class UpsamplerTest {

    private static final UpsamplerConfig TINY = UpsamplerConfig.tiny();

    @Test
    void upsamplesToTheOutputSizeInRangeAndDependsOnlyOnEachImagesSeed() {
        try (NDManager manager = DjlRuntime.newManager()) {
            Upsampler upsampler = withRandomWeights(Upsampler.create(TINY, manager), 3);
            NDArray low = manager.randomUniform(-1f, 1f, new Shape(3, 3, 8, 8));
            NDArray together = upsampler.upsample(low, 4, 20, new long[] {7, 8, 9}, Sampler.Progress.NONE);
            assertEquals(new Shape(3, 3, 32, 32), together.getShape());
            assertTrue(together.max().getFloat() <= 1f && together.min().getFloat() >= -1f);

            NDArray alone = upsampler.upsample(low.get("1:2"), 4, 20, new long[] {8}, Sampler.Progress.NONE);
            assertTrue(maxDifference(alone, together.get("1:2")) < 1e-5f, "an image must not depend on its batch");
            NDArray again = upsampler.upsample(low.get("1:2"), 4, 20, new long[] {8}, Sampler.Progress.NONE);
            assertEquals(0f, maxDifference(alone, again));
            NDArray otherSeed = upsampler.upsample(low.get("1:2"), 4, 20, new long[] {99}, Sampler.Progress.NONE);
            assertTrue(maxDifference(alone, otherSeed) > 1e-3f);
        }
    }

    @Test
    void aLowerStartStepRefinesTheNoisedInterpolationDeterministically() {
        try (NDManager manager = DjlRuntime.newManager()) {
            Upsampler upsampler = withRandomWeights(Upsampler.create(TINY.withSampler(SamplerKind.DDIM), manager), 6);
            NDArray low = manager.randomUniform(-1f, 1f, new Shape(2, 3, 8, 8));
            long[] seeds = {3, 4};
            NDArray fromNoise = upsampler.upsample(low, 4, 0, 999, seeds, Sampler.Progress.NONE);
            assertEquals(0f, maxDifference(fromNoise, upsampler.upsample(low, 4, 0, seeds, Sampler.Progress.NONE)),
                    "start step T - 1 is sampling from pure noise");
            NDArray refined = upsampler.upsample(low, 4, 0, 400, seeds, Sampler.Progress.NONE);
            assertEquals(0f, maxDifference(refined, upsampler.upsample(low, 4, 0, 400, seeds, Sampler.Progress.NONE)));
            assertEquals(new Shape(2, 3, 32, 32), refined.getShape());
            assertTrue(maxDifference(refined, fromNoise) > 1e-3f);
            Upsampler configured = upsampler.sampledWith(0, 4, 400);
            assertEquals(0f, maxDifference(refined, configured.upsample(low, seeds, Sampler.Progress.NONE)));
            assertThrows(IllegalArgumentException.class, () -> upsampler.sampledWith(0, 402, 400));
        }
    }

    @Test
    void samplesWithTheConfiguredSamplerKeptInTheConfigAndOlderConfigsMeanDdim(@TempDir Path dir) throws Exception {
        try (NDManager manager = DjlRuntime.newManager()) {
            assertEquals(UpsamplerConfig.DEFAULT_SAMPLER, TINY.samplerKind());
            Upsampler ddim = withRandomWeights(Upsampler.create(TINY.withSampler(SamplerKind.DDIM), manager), 5);
            assertEquals(SamplerKind.DDIM, ddim.config().samplerKind());
            Upsampler dpm = ddim.sampledWith(SamplerKind.DPMPP_2M);
            NDArray low = manager.randomUniform(-1f, 1f, new Shape(2, 3, 8, 8));
            long[] seeds = {3, 4};
            NDArray byDdim = ddim.upsample(low, 4, 20, seeds, Sampler.Progress.NONE);
            NDArray byDpm = dpm.upsample(low, 4, 20, seeds, Sampler.Progress.NONE);
            assertEquals(new Shape(2, 3, 32, 32), byDpm.getShape());
            assertTrue(byDpm.max().getFloat() <= 1f && byDpm.min().getFloat() >= -1f);
            assertTrue(maxDifference(byDdim, byDpm) > 1e-3f, "the sampler must be the one configured");
            assertEquals(0f, maxDifference(byDpm.get("1:2"),
                    dpm.upsample(low.get("1:2"), 4, 20, new long[] {4}, Sampler.Progress.NONE)), 1e-5f);

            dpm.save(dir.resolve("dpm"));
            String written = java.nio.file.Files.readString(dir.resolve("dpm").resolve(UpsamplerConfig.FILE_NAME));
            assertTrue(written.contains("\"sampling_sampler\" : \"dpmpp-2m\""), written);
            assertEquals(0f, maxDifference(byDpm, Upsampler.load(dir.resolve("dpm"), manager)
                    .upsample(low, 4, 20, seeds, Sampler.Progress.NONE)));
            // a config written before the field existed samples with DDIM
            java.nio.file.Files.writeString(dir.resolve("dpm").resolve(UpsamplerConfig.FILE_NAME),
                    written.replaceAll(",\\s*\"sampling_sampler\" : \"dpmpp-2m\"", ""));
            assertEquals(SamplerKind.DDIM, UpsamplerConfig.read(dir.resolve("dpm")).samplerKind());

            IllegalArgumentException sdedit = assertThrows(IllegalArgumentException.class,
                    () -> dpm.upsample(low, 4, 0, 400, seeds, Sampler.Progress.NONE));
            assertTrue(sdedit.getMessage().contains("ddim"), sdedit.getMessage());
            IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
                    () -> dpm.sampledWith(0, 4, 400));
            assertTrue(refused.getMessage().contains("sampling_sampler ddim"), refused.getMessage());
            java.nio.file.Files.writeString(dir.resolve("dpm").resolve(UpsamplerConfig.FILE_NAME),
                    written.replace("dpmpp-2m", "euler"));
            Exception unknown = assertThrows(Exception.class, () -> UpsamplerConfig.read(dir.resolve("dpm")));
            assertTrue(String.valueOf(unknown.getMessage()).contains("sampling_sampler"), unknown.getMessage());
        }
    }

    @Test
    void theOutputFollowsTheLowResolutionInput() {
        try (NDManager manager = DjlRuntime.newManager()) {
            Upsampler upsampler = withRandomWeights(Upsampler.create(TINY, manager), 4);
            NDArray dark = manager.full(new Shape(1, 3, 8, 8), -0.8f);
            NDArray light = manager.full(new Shape(1, 3, 8, 8), 0.8f);
            long[] seed = {1};
            NDArray fromDark = upsampler.upsample(dark, 4, 0, seed, Sampler.Progress.NONE);
            NDArray fromLight = upsampler.upsample(light, 4, 0, seed, Sampler.Progress.NONE);
            assertTrue(maxDifference(fromDark, fromLight) > 1e-3f, "the conditioning must reach the output");
        }
    }

    @Test
    void areaDownsamplingAveragesBlocksAndBicubicKeepsAConstantImage() {
        try (NDManager manager = DjlRuntime.newManager()) {
            NDArray image = manager.arange(16f).reshape(1, 1, 4, 4);
            NDArray down = Upsampler.downsample(image, 2);
            assertEquals(List.of(2.5f, 4.5f, 10.5f, 12.5f), boxed(down.toFloatArray()));
            NDArray constant = manager.full(new Shape(1, 3, 8, 8), 0.25f);
            assertTrue(maxDifference(Upsampler.bicubic(constant, 32), manager.full(new Shape(1, 3, 32, 32), 0.25f)) < 1e-6f);
        }
    }

    @Test
    void theCropLossIsReproducibleFromTheRandomStreamAndTrains() {
        try (NDManager manager = DjlRuntime.newManager()) {
            Upsampler upsampler = Upsampler.create(TINY, manager, 1);
            NDArray images = manager.randomUniform(-1f, 1f, new Shape(4, 3, 32, 32));
            ParameterStore ps = new ParameterStore(manager, false);
            float first = upsampler.loss(ps, images, 16, new Random(5)).getFloat();
            float second = upsampler.loss(ps, images, 16, new Random(5)).getFloat();
            assertEquals(first, second);
            assertTrue(Float.isFinite(first) && first > 0);

            try (GradientCollector collector = ai.djl.engine.Engine.getInstance().newGradientCollector()) {
                collector.backward(upsampler.loss(ps, images, 16, new Random(6)));
            }
            boolean someGradient = false;
            for (Pair<String, Parameter> p : upsampler.parameters()) {
                NDArray gradient = p.getValue().getArray().getGradient();
                someGradient |= gradient.abs().sum().getFloat() > 0;
            }
            assertTrue(someGradient);
        }
    }

    @Test
    void refusesInputsOfTheWrongSizeAndCropsThatDoNotFitTheLevels() {
        try (NDManager manager = DjlRuntime.newManager()) {
            Upsampler upsampler = Upsampler.create(TINY, manager);
            NDArray wrong = manager.zeros(new Shape(1, 3, 16, 16));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> upsampler.upsample(wrong, new long[] {1}, Sampler.Progress.NONE));
            assertTrue(e.getMessage().contains("(B, 3, 8, 8)"), e.getMessage());
            NDArray images = manager.zeros(new Shape(1, 3, 32, 32));
            assertThrows(IllegalArgumentException.class,
                    () -> upsampler.loss(new ParameterStore(manager, false), images, 15, new Random(1)));
        }
        assertThrows(IllegalArgumentException.class, () -> UpsamplerConfig.of(32, 48, 16, List.of(1, 2), 1));
    }

    @Test
    void savesAndLoadsExactlyAndRefusesADecoderFolder(@TempDir Path dir) {
        try (NDManager manager = DjlRuntime.newManager()) {
            Upsampler upsampler = withRandomWeights(Upsampler.create(TINY, manager), 8);
            upsampler.save(dir.resolve("up"));
            Upsampler loaded = Upsampler.load(dir.resolve("up"), manager);
            assertEquals(TINY, loaded.config());
            NDArray low = manager.randomUniform(-1f, 1f, new Shape(1, 3, 8, 8));
            assertEquals(0f, maxDifference(upsampler.upsample(low, new long[] {2}, Sampler.Progress.NONE),
                    loaded.upsample(low, new long[] {2}, Sampler.Progress.NONE)));

            Decoder.create(DecoderConfig.tiny(), manager).save(dir.resolve("decoder"));
            Exception e = assertThrows(IllegalArgumentException.class, () -> Upsampler.load(dir.resolve("decoder"), manager));
            assertTrue(e.getMessage().contains("type \"decoder\", not an upsampler"), e.getMessage());
        }
    }

    /** Fresh networks output 0 (zero-initialised residual ends); tests need one that does something. */
    private static Upsampler withRandomWeights(Upsampler upsampler, long seed) {
        DecoderUNetTest.addRandomValues(upsampler.parameters(), seed);
        return upsampler;
    }

    private static List<Float> boxed(float[] values) {
        Float[] out = new Float[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = values[i];
        }
        return List.of(out);
    }
}
