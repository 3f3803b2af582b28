package dalle2.training;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.ParameterList;
import ai.djl.training.GradientCollector;
import ai.djl.training.initializer.ConstantInitializer;
import dalle2.djl.DjlRuntime;
import dalle2.json.Json;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class AdamWTest {

    @BeforeAll
    static void offline() {
        DjlRuntime.configure();
    }

    static Parameter parameter(NDManager manager, String name, Shape shape, float value) {
        Parameter parameter = Parameter.builder().setName(name).setType(Parameter.Type.WEIGHT).optShape(shape)
                .optInitializer(new ConstantInitializer(value)).build();
        parameter.initialize(manager, DataType.FLOAT32);
        return parameter;
    }

    /** f = ½(w − 3)² + ½(b + 1)², so ∂f/∂w = w − 3 and ∂f/∂b = b + 1. */
    private static void backward(NDManager manager, Parameter w, Parameter b) {
        try (NDManager scope = manager.newSubManager();
             GradientCollector collector = DjlRuntime.engine().newGradientCollector()) {
            NDArray three = scope.create(3f);
            NDArray one = scope.create(1f);
            NDArray loss = w.getArray().sub(three).square().sum().add(b.getArray().add(one).square().sum()).mul(0.5f);
            loss.attach(scope);
            collector.backward(loss);
        }
    }

    @Test
    void matchesAHandComputationOnAQuadraticWithDecayOnlyOnMatrices() {
        try (NDManager manager = DjlRuntime.newManager(); AdamW optimizer = new AdamW(0.9f, 0.99f, 1e-8f, 0.1f)) {
            Parameter w = parameter(manager, "w", new Shape(1, 1), 0.5f);   // 2-D: decayed
            Parameter b = parameter(manager, "b", new Shape(1), 0.5f);      // 1-D: not decayed
            ParameterList parameters = new ParameterList();
            parameters.add("w", w);
            parameters.add("b", b);
            double[] lr = {0.1, 0.05, 0.2, 0.1};
            double wHand = 0.5;
            double bHand = 0.5;
            double mw = 0;
            double vw = 0;
            double mb = 0;
            double vb = 0;
            for (int t = 1; t <= lr.length; t++) {
                backward(manager, w, b);
                optimizer.step(parameters, (float) lr[t - 1]);
                double gw = wHand - 3;
                double gb = bHand + 1;
                wHand *= 1 - lr[t - 1] * 0.1;
                mw = 0.9 * mw + 0.1 * gw;
                vw = 0.99 * vw + 0.01 * gw * gw;
                mb = 0.9 * mb + 0.1 * gb;
                vb = 0.99 * vb + 0.01 * gb * gb;
                double c1 = 1 - Math.pow(0.9, t);
                double c2 = 1 - Math.pow(0.99, t);
                wHand -= lr[t - 1] * (mw / c1) / (Math.sqrt(vw / c2) + 1e-8);
                bHand -= lr[t - 1] * (mb / c1) / (Math.sqrt(vb / c2) + 1e-8);
                assertEquals(wHand, w.getArray().getFloat(0, 0), 1e-5, "w after step " + t);
                assertEquals(bHand, b.getArray().getFloat(0), 1e-5, "b after step " + t);
            }
            assertEquals(4, optimizer.stepCount());
            // the step zeroed the gradients, so the next backward starts from scratch
            assertEquals(0f, w.getArray().getGradient().abs().sum().getFloat());
            assertTrue(AdamW.decays(w));
            assertFalse(AdamW.decays(b));
        }
    }

    @Test
    void aParameterNoBackwardPassReachedIsLeftAloneWeightDecayIncluded() {
        try (NDManager manager = DjlRuntime.newManager(); AdamW optimizer = AdamW.withWeightDecay(0.5f)) {
            Parameter unused = parameter(manager, "unused", new Shape(2, 2), 1f);
            ParameterList parameters = new ParameterList();
            parameters.add("unused", unused);
            optimizer.step(parameters, 0.1f);
            optimizer.step(parameters, 0.1f);
            assertEquals(4f, unused.getArray().sum().getFloat());
            assertEquals(0, optimizer.state(manager).size(), "no moments for it either");
        }
    }

    @Test
    void stateRoundTripsThroughJsonAndSafetensorsAndIsCheckedAgainstTheModel(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        try (NDManager manager = DjlRuntime.newManager(); AdamW optimizer = AdamW.withWeightDecay(0.01f)) {
            Parameter w = parameter(manager, "w", new Shape(2, 2), 0.5f);
            Parameter b = parameter(manager, "b", new Shape(1), 0.5f);
            ParameterList parameters = new ParameterList();
            parameters.add("w", w);
            parameters.add("b", b);
            backward(manager, w, b);
            optimizer.step(parameters, 0.1f);
            TensorFile.write(dir.resolve("adamw.safetensors"), optimizer.state(manager));
            String json = Json.write(optimizer.scalars());
            assertTrue(json.contains("\"weight_decay\":0.01") && json.contains("\"step\":1"), json);

            NDList arrays = TensorFile.read(dir.resolve("adamw.safetensors"), manager);
            AdamW.Scalars scalars = Json.read(json, AdamW.Scalars.class);
            ai.djl.nn.Block block = ai.djl.nn.core.Linear.builder().setUnits(1).build();
            IllegalArgumentException wrongModel = assertThrows(IllegalArgumentException.class, () -> {
                block.initialize(manager, DataType.FLOAT32, new Shape(1, 3));
                AdamW.withWeightDecay(0.01f).loadState(block, arrays, scalars);
            });
            assertTrue(wrongModel.getMessage().contains("does not match the model"), wrongModel.getMessage());
            IllegalArgumentException wrongDecay = assertThrows(IllegalArgumentException.class,
                    () -> AdamW.withWeightDecay(0.1f).loadState(block, arrays, scalars));
            assertTrue(wrongDecay.getMessage().contains("weight_decay = 0.01"), wrongDecay.getMessage());
        }
    }

    /** The w of one update of f = ½(w − 3)² from w = 0.5, run on a new thread or on this one. */
    private static float oneUpdate(boolean onANewThread) throws Exception {
        java.util.concurrent.atomic.AtomicReference<Object> result = new java.util.concurrent.atomic.AtomicReference<>();
        Runnable update = () -> {
            try (NDManager manager = DjlRuntime.newManager(); AdamW optimizer = AdamW.withWeightDecay(0.1f)) {
                Parameter w = parameter(manager, "w", new Shape(1, 1), 0.5f);
                Parameter b = parameter(manager, "b", new Shape(1), 0.5f);
                ParameterList parameters = new ParameterList();
                parameters.add("w", w);
                parameters.add("b", b);
                backward(manager, w, b);
                optimizer.step(parameters, 0.1f);
                result.set(w.getArray().getFloat(0, 0));
            } catch (RuntimeException e) {
                result.set(e);
            }
        };
        if (onANewThread) {
            Thread thread = new Thread(update, "trainer-on-another-thread");
            thread.start();
            thread.join();
        } else {
            update.run();
        }
        if (result.get() instanceof RuntimeException e) {
            throw e;
        }
        return (Float) result.get();
    }

    @Test
    void updatesOnAThreadThatDidNotLoadTheEngineLikeOnTheMainThread() throws Exception {
        // libtorch's grad mode is per thread and on by default; DJL turns it off only where the engine loaded
        assertEquals(oneUpdate(false), oneUpdate(true));
    }
}
