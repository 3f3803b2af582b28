package dalle2.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.ParameterStore;
import dalle2.djl.DjlRuntime;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * The U-Net's compiled TorchScript forward pass ({@link DecoderUNet#torchScript}) against the same network run op
 * by op from Java, which is what runs whenever autograd is on.
 */
class ScriptedDecoderUNetTest {

    /** Float32 rounding of a different summation order (fused group norm, SiLU), relative to the output's scale. */
    private static final float TOLERANCE = 2e-5f;

    @Test
    void everyDecoderShapeGivesTheOpByOpOutputAtBatchOneAndThree() {
        for (DecoderConfig config : List.of(DecoderConfig.tiny(), DecoderUNetTest.scaleShift(),
                DecoderConfig.tiny().withImageChannels(1), DecoderUNetTest.small64(),
                DecoderConfig.tiny().withConditioning(4.0, DecoderConfig.INJECTION_ADD))) {
            try (NDManager manager = DjlRuntime.newManager()) {
                Decoder decoder = DecoderUNetTest.withRandomWeights(Decoder.create(config, manager), 3);
                for (int batch : new int[] {1, 3}) {
                    assertScriptedEqualsOpByOp(manager, decoder.block(), inputs(manager, config, batch),
                            config + " batch " + batch);
                }
            }
        }
    }

    @Test
    void theShippedDecoderGivesTheOpByOpOutputIncludingItsReroutedSingleImageConvolutions() {
        try (NDManager manager = DjlRuntime.newManager()) {
            Decoder decoder = Decoder.load(java.nio.file.Path.of("../trained_models/decoder"), manager);
            assertTrue(Convolutions.reroutes(manager.zeros(new Shape(1, 64, 16, 16))), "the reroute is exercised");
            for (int batch : new int[] {1, 4}) {
                assertScriptedEqualsOpByOp(manager, decoder.block(), inputs(manager, decoder.config(), batch),
                        "shipped decoder, batch " + batch);
            }
        }
    }

    @Test
    void aLargeImageRunsChannelsLastInsideTheScriptAndComesBackInTheUsualLayout() {
        UpsamplerConfig config = UpsamplerConfig.of(32, DecoderUNet.CHANNELS_LAST_MIN_IMAGE_SIZE, 8, List.of(1, 2), 1);
        try (NDManager manager = DjlRuntime.newManager()) {
            Upsampler upsampler = Upsampler.create(config, manager, 8);
            DecoderUNetTest.addRandomValues(upsampler.block().getParameters(), 8);
            assertTrue(upsampler.block().torchScript().contains("memory_format"), "the channels-last path is exercised");
            assertUpsamplerScriptedEqualsOpByOp(manager, upsampler, config.imageSize(), "256 px upsampler");
        }
    }

    @Test
    void theUpsamplersNetworkWithoutAttentionGivesTheOpByOpOutput() {
        try (NDManager manager = DjlRuntime.newManager()) {
            UpsamplerConfig config = UpsamplerConfig.tiny();
            Upsampler upsampler = Upsampler.create(config, manager, 5);
            DecoderUNetTest.addRandomValues(upsampler.block().getParameters(), 5);
            assertUpsamplerScriptedEqualsOpByOp(manager, upsampler, config.imageSize(), "tiny upsampler");
        }
    }

    private static void assertUpsamplerScriptedEqualsOpByOp(NDManager manager, Upsampler upsampler, int size,
                                                            String what) {
        NDArray noisy = manager.randomNormal(new Shape(2, 3, size, size));
        NDArray conditioning = manager.randomNormal(new Shape(2, 3, size, size));
        NDArray t = manager.create(new long[] {999, 10});
        NDArray level = manager.create(new long[] {50, 0});
        Supplier<NDArray> pass = () -> upsampler.forward(new ParameterStore(manager, false), noisy, t,
                conditioning, level, false);
        assertClose(withGradients(pass), DjlRuntime.withoutGradients(pass), what);
    }

    @Test
    void newWeightsTakeEffectAtTheNextScriptedCall() {
        try (NDManager manager = DjlRuntime.newManager()) {
            DecoderConfig config = DecoderUNetTest.scaleShift();
            Decoder decoder = DecoderUNetTest.withRandomWeights(Decoder.create(config, manager), 4);
            NDList inputs = inputs(manager, config, 2);
            float[] before = scripted(decoder.block(), inputs).toFloatArray();
            DecoderUNetTest.addRandomValues(decoder.parameters(), 9);   // ModelWeights.set and Ema.swap do the same
            NDArray after = scripted(decoder.block(), inputs);
            assertFalse(java.util.Arrays.equals(before, after.toFloatArray()), "the new weights changed the output");
            assertClose(opByOp(decoder.block(), inputs), after, "after new weights");
        }
    }

    @Test
    void aForwardPassRecordedForGradientsRunsOpByOp() {
        DjlRuntime.engine();
        assertFalse(withGradients(DjlRuntime::scriptedForwardNow), "autograd on: op by op");
        assertTrue(DjlRuntime.withoutGradients(DjlRuntime::scriptedForwardNow), "autograd off: scripted");
    }

    private static NDList inputs(NDManager manager, DecoderConfig config, int batch) {
        int size = config.imageSize();
        long[] steps = new long[batch];
        float[] keep = new float[batch];
        for (int i = 0; i < batch; i++) {
            steps[i] = 999 - 400L * i;
            keep[i] = i % 2 == 0 ? 1f : 0f;             // conditional and unconditional rows, as guidance runs them
        }
        return new NDList(manager.randomNormal(new Shape(batch, config.imageChannels(), size, size)),
                manager.create(steps), manager.randomNormal(new Shape(batch, config.conditionDim())),
                manager.create(keep));
    }

    private static void assertScriptedEqualsOpByOp(NDManager manager, DecoderUNet unet, NDList inputs, String what) {
        assertClose(opByOp(unet, inputs), scripted(unet, inputs), what);
    }

    private static NDArray opByOp(DecoderUNet unet, NDList inputs) {
        return withGradients(() -> unet.forward(new ParameterStore(inputs.head().getManager(), false), inputs, false)
                .singletonOrThrow());
    }

    private static NDArray scripted(DecoderUNet unet, NDList inputs) {
        return DjlRuntime.withoutGradients(() -> unet.forward(new ParameterStore(inputs.head().getManager(), false),
                inputs, false).singletonOrThrow());
    }

    private static <T> T withGradients(Supplier<T> work) {
        boolean was = JniUtils.isGradMode();
        JniUtils.setGradMode(true);
        try {
            return work.get();
        } finally {
            JniUtils.setGradMode(was);
        }
    }

    private static void assertClose(NDArray expected, NDArray actual, String what) {
        float scale = Math.max(1f, expected.abs().max().getFloat());
        float[] e = expected.toFloatArray();
        float[] a = actual.toFloatArray();
        assertArrayEquals(expected.getShape().getShape(), actual.getShape().getShape(), what);
        float worst = 0;
        for (int i = 0; i < e.length; i++) {
            worst = Math.max(worst, Math.abs(e[i] - a[i]));
        }
        assertTrue(worst <= TOLERANCE * scale, what + ": max |Δ| " + worst + " at output scale " + scale);
        assertTrue(expected.abs().max().getFloat() > 0, what + ": a zero output would prove nothing");
    }
}
