package dalle2.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import dalle2.djl.Differentiable;
import dalle2.djl.DjlRuntime;
import dalle2.training.AdamW;
import java.io.IOException;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.lang.ref.Reference;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Function;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The gradients of a training step must not depend on when the JVM collects garbage. DJL's {@code mul(Number)}
 * and its siblings let autograd keep a scalar whose memory the garbage collector frees (see
 * {@link Differentiable}); with them a collection between forward and backward made every test here fail
 * (NaN gradients for the prior, zeros for CLIP, finite but different ones for the decoder). Each test computes
 * the gradients of one loss twice from the same weights and inputs: once with backward straight after
 * forward, once after collecting garbage and filling the freed memory with NaN.
 */
class BackwardAfterGarbageCollectionTest {

    @TempDir
    Path dir;

    @BeforeAll
    static void offline() {
        DjlRuntime.configure();
    }

    /**
     * Frees every unreachable direct buffer (the garbage collector hands them to the JDK's cleaner thread,
     * which frees them), then allocates many small blocks filled with NaN, so that memory freed a moment ago is
     * very likely handed out again with NaN in it. The caller keeps the blocks until the backward pass is over.
     */
    static List<ByteBuffer> collectGarbageAndReuseFreedMemory() throws InterruptedException {
        collectGarbage();
        List<ByteBuffer> blocks = new ArrayList<>();
        for (int i = 0; i < 20_000; i++) {
            ByteBuffer block = ByteBuffer.allocateDirect(4 * (1 + i % 4));
            while (block.remaining() >= Float.BYTES) {
                block.putFloat(Float.NaN);
            }
            blocks.add(block);
        }
        return blocks;
    }

    /**
     * Small blocks freed by the cleaner thread first land in that thread's own allocator cache, which nobody
     * else allocates from; freeing a few dozen before the step fills that cache, so what the step frees later
     * goes back where the test thread allocates.
     */
    static void fillTheCleanersCache() throws InterruptedException {
        for (int i = 0; i < 64; i++) {
            ByteBuffer.allocateDirect(4);
        }
        collectGarbage();
    }

    /** The JVM's count of live direct buffers. */
    static BufferPoolMXBean directBuffers() {
        return ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
                .filter(pool -> pool.getName().equals("direct")).findFirst().orElseThrow();
    }

    /** Collects garbage until the JDK's cleaner thread has freed every unreachable direct buffer. */
    static void collectGarbage() throws InterruptedException {
        long previous = directBuffers().getCount();
        for (int round = 0, unchanged = 0; round < 100 && unchanged < 3; round++) {
            System.gc();
            Thread.sleep(20);                                                           // the cleaner runs async
            long now = directBuffers().getCount();
            unchanged = now == previous ? unchanged + 1 : 0;
            previous = now;
        }
    }

    /** All gradients of {@code block} after one backward pass of {@code loss}, concatenated. */
    static float[] gradients(Block block, NDManager manager, Function<NDManager, NDArray> loss,
                             boolean collectGarbageBeforeBackward) throws InterruptedException {
        AdamW.zeroGradients(block.getParameters());
        Engine.getInstance().setRandomSeed(5);                                          // any engine randomness
        if (collectGarbageBeforeBackward) {
            fillTheCleanersCache();
        }
        List<ByteBuffer> reused = List.of();
        try (NDManager step = manager.newSubManager()) {
            try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                NDArray value = loss.apply(step);
                if (collectGarbageBeforeBackward) {
                    reused = collectGarbageAndReuseFreedMemory();
                }
                collector.backward(value);
            }
            List<Float> all = new ArrayList<>();
            for (Pair<String, Parameter> entry : block.getParameters()) {
                NDArray gradient = JniUtils.getGradient((PtNDArray) entry.getValue().getArray());
                if (gradient == null) {
                    continue;
                }
                gradient.attach(step);
                for (float g : gradient.toFloatArray()) {
                    all.add(g);
                }
            }
            Reference.reachabilityFence(reused);
            float[] result = new float[all.size()];
            for (int i = 0; i < result.length; i++) {
                result[i] = all.get(i);
            }
            return result;
        } finally {
            AdamW.zeroGradients(block.getParameters());
        }
    }

    static void assertSameGradientsWithAndWithoutACollection(Block block, NDManager manager,
                                                             Function<NDManager, NDArray> loss)
            throws InterruptedException {
        float[] straight = gradients(block, manager, loss, false);
        float[] afterCollection = gradients(block, manager, loss, true);
        boolean finite = true;
        for (float g : straight) {
            finite &= Float.isFinite(g);
        }
        assertTrue(finite && straight.length > 0, "the reference gradients are finite");
        assertArrayEquals(straight, afterCollection, "gradients changed when garbage was collected before backward");
    }

    static float[] gaussian(long seed, int n) {
        Random random = new Random(seed);
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = (float) random.nextGaussian();
        }
        return values;
    }

    @Test
    void decoderGradientsDoNotDependOnAGarbageCollectionBeforeBackward() throws InterruptedException {
        try (NDManager manager = DjlRuntime.newManager()) {
            Decoder decoder = Decoder.create(DecoderConfig.tiny(), manager, 3);
            // a fresh decoder starts its residual branches and output at zero, so no gradient would reach the
            // layers before them: move every weight off its initial value first
            try (NDManager scope = manager.newSubManager()) {
                for (Pair<String, Parameter> entry : decoder.block().getParameters()) {
                    NDArray weight = entry.getValue().getArray();
                    weight.addi(scope.randomNormal(0f, 0.05f, weight.getShape(), weight.getDataType()));
                }
            }
            float[] images = gaussian(1, 4 * 3 * 32 * 32);
            float[] embeddings = gaussian(2, 4 * 32);
            assertSameGradientsWithAndWithoutACollection(decoder.block(), manager, step -> decoder.loss(
                    new ParameterStore(step, false), step.create(images, new Shape(4, 3, 32, 32)),
                    step.create(embeddings, new Shape(4, 32)), new Random(3)));
        }
    }

    @Test
    void priorGradientsDoNotDependOnAGarbageCollectionBeforeBackward() throws InterruptedException {
        try (NDManager manager = DjlRuntime.newManager()) {
            Prior prior = Prior.create(PriorConfig.tiny(), manager);
            float[] text = gaussian(1, 8 * 16);
            float[] image = gaussian(2, 8 * 16);
            assertSameGradientsWithAndWithoutACollection(prior.network(), manager, step -> prior.loss(
                    new ParameterStore(step, false), step.create(text, new Shape(8, 16)).normalize(2, 1, 1e-12),
                    step.create(image, new Shape(8, 16)).normalize(2, 1, 1e-12), new Random(3)));
        }
    }

    @Test
    void clipGradientsDoNotDependOnAGarbageCollectionBeforeBackward() throws InterruptedException, IOException {
        List<String> captions = List.of("a red square", "a green square", "a blue square", "a black square");
        Path tokenizer = dir.resolve("tokenizer.json");
        ClipTokenizer.writeWordLevel(captions, 1, tokenizer);
        try (NDManager manager = DjlRuntime.newManager();
             ClipEncoder clip = ClipEncoder.create(ClipConfig.tiny(), tokenizer, manager)) {
            float[] images = gaussian(1, 4 * 3 * 16 * 16);
            ClipTokenizer.Tokens tokens = clip.tokenize(captions);
            assertSameGradientsWithAndWithoutACollection(clip.block(), manager, step -> clip.contrastiveLoss(
                    new ParameterStore(step, false), step.create(images, new Shape(4, 3, 16, 16)), tokens));
        }
    }
}
