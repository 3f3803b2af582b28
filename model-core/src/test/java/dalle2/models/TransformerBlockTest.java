package dalle2.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import dalle2.djl.DjlRuntime;
import org.junit.jupiter.api.Test;

class TransformerBlockTest {

    @Test
    void withACausalMaskEarlierPositionsIgnoreLaterOnes() {
        try (NDManager manager = DjlRuntime.newManager()) {
            TransformerBlock block = new TransformerBlock(32, 4, 4);
            Shape shape = new Shape(2, 5, 32);
            block.initialize(manager, DataType.FLOAT32, shape, new Shape(1, 1, 5, 5));
            ParameterStore ps = new ParameterStore(manager, false);
            NDArray mask = TransformerBlock.causalMask(manager, 5);
            NDArray x = manager.randomNormal(shape);
            NDArray changed = x.duplicate();
            changed.set(new ai.djl.ndarray.index.NDIndex(":, 4, :"), 3f);
            NDArray a = block.forward(ps, new NDList(x, mask), false).singletonOrThrow();
            NDArray b = block.forward(ps, new NDList(changed, mask), false).singletonOrThrow();
            assertArrayEquals(a.get(":, 0:4, :").toFloatArray(), b.get(":, 0:4, :").toFloatArray(), 1e-6f);
            assertTrue(a.get(":, 4, :").sub(b.get(":, 4, :")).abs().max().getFloat() > 1e-3f);
            NDArray unmasked = block.forward(ps, new NDList(changed), false).singletonOrThrow();
            assertTrue(unmasked.get(":, 0, :").sub(b.get(":, 0, :")).abs().max().getFloat() > 1e-4f,
                    "without the mask the first position sees the last one");
            assertEquals(shape, a.getShape());
        }
    }
}
