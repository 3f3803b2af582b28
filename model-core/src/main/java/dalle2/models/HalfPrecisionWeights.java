package dalle2.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dalle2.djl.DjlRuntime;
import dalle2.training.TensorFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Stores a weights file in float16: half the bytes of a shipped model. Loading ({@link ModelWeights#load}) widens
 * every value back to float32 exactly, so a model stored this way computes what its stored values say: evaluate it
 * after storing, not before.
 *
 * <p>Refuses a file with a value beyond float16's range (65,504), which would become infinite. Storing a file that
 * is already float16 changes nothing.
 */
public final class HalfPrecisionWeights {

    /** The largest finite float16. */
    static final float MAX_HALF = 65504f;

    /**
     * What storing did.
     *
     * @param parameters     values in the file
     * @param bytesBefore    the file's size before
     * @param bytesAfter     its size after
     * @param maxAbsChange   the largest |float16(w) − w| over all values
     * @param maxRelChange   the largest |float16(w) − w| / |w| over the values at least {@code 2^-14} in size
     *                       (float16's smallest normal; smaller ones keep an absolute error below 2^-24)
     */
    public record Report(long parameters, long bytesBefore, long bytesAfter, double maxAbsChange,
                         double maxRelChange) {
    }

    private HalfPrecisionWeights() {
    }

    /** Rewrites {@code weightsFile} (a safetensors file of float arrays) in float16, atomically. */
    public static Report store(Path weightsFile) throws IOException {
        long before = Files.size(weightsFile);
        long parameters = 0;
        double maxAbs = 0;
        double maxRel = 0;
        try (NDManager manager = DjlRuntime.newManager()) {
            NDList stored = TensorFile.read(weightsFile, manager);
            NDList half = new NDList(stored.size());
            for (NDArray array : stored) {
                if (!array.getDataType().isFloating()) {
                    throw new IllegalArgumentException(weightsFile + ": " + array.getName() + " is "
                            + array.getDataType() + ", not a float array");
                }
                float[] values = array.toType(DataType.FLOAT32, false).toFloatArray();
                NDArray rounded = array.toType(DataType.FLOAT16, false);
                float[] back = rounded.toType(DataType.FLOAT32, false).toFloatArray();
                for (int i = 0; i < values.length; i++) {
                    if (Math.abs(values[i]) > MAX_HALF || !Float.isFinite(values[i])) {
                        throw new IllegalArgumentException(weightsFile + ": " + array.getName() + " holds "
                                + values[i] + ", beyond float16's range");
                    }
                    double change = Math.abs((double) back[i] - values[i]);
                    maxAbs = Math.max(maxAbs, change);
                    if (Math.abs(values[i]) >= 0x1p-14f) {
                        maxRel = Math.max(maxRel, change / Math.abs(values[i]));
                    }
                }
                parameters += values.length;
                rounded.setName(array.getName());
                half.add(rounded);
            }
            TensorFile.write(weightsFile, half);
        }
        return new Report(parameters, before, Files.size(weightsFile), maxAbs, maxRel);
    }
}
