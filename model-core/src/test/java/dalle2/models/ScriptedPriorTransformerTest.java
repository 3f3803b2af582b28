package dalle2.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.ParameterStore;
import dalle2.djl.DjlRuntime;
import java.nio.file.Path;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/** The prior's compiled TorchScript forward pass against the same transformer run op by op from Java. */
class ScriptedPriorTransformerTest {

    private static final float TOLERANCE = 2e-5f;

    @Test
    void aFreshTinyPriorGivesTheOpByOpOutput() {
        try (NDManager manager = DjlRuntime.newManager(); Prior prior = Prior.create(PriorConfig.tiny(), manager)) {
            DecoderUNetTest.addRandomValues(prior.network().getParameters(), 6);
            for (int batch : new int[] {1, 5}) {
                assertScriptedEqualsOpByOp(prior, manager, batch, "tiny prior, batch " + batch);
            }
        }
    }

    @Test
    void theShippedPriorGivesTheOpByOpOutput() throws Exception {
        try (NDManager manager = DjlRuntime.newManager();
             Prior prior = Prior.load(Path.of("../trained_models/prior"), manager)) {
            for (int batch : new int[] {1, 4}) {
                assertScriptedEqualsOpByOp(prior, manager, batch, "shipped prior, batch " + batch);
            }
        }
    }

    private static void assertScriptedEqualsOpByOp(Prior prior, NDManager manager, int batch, String what) {
        int d = prior.config().embeddingDim();
        long[] steps = new long[batch];
        float[] keep = new float[batch];
        for (int i = 0; i < batch; i++) {
            steps[i] = 999 - 200L * i;
            keep[i] = i % 2 == 0 ? 1f : 0f;
        }
        NDList inputs = new NDList(manager.randomNormal(new Shape(batch, d)), manager.create(steps),
                manager.randomNormal(new Shape(batch, d)), manager.create(keep));
        Supplier<NDArray> pass = () -> prior.network().forward(new ParameterStore(manager, false), inputs, false)
                .singletonOrThrow();
        boolean was = JniUtils.isGradMode();
        JniUtils.setGradMode(true);
        NDArray opByOp;
        try {
            opByOp = pass.get();
        } finally {
            JniUtils.setGradMode(was);
        }
        NDArray scripted = DjlRuntime.withoutGradients(pass);
        assertArrayEquals(opByOp.getShape().getShape(), scripted.getShape().getShape(), what);
        float scale = Math.max(1f, opByOp.abs().max().getFloat());
        float worst = opByOp.sub(scripted).abs().max().getFloat();
        assertTrue(worst <= TOLERANCE * scale, what + ": max |Δ| " + worst + " at output scale " + scale);
    }
}
