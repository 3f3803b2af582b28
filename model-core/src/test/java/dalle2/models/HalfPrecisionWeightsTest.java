package dalle2.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import dalle2.djl.DjlRuntime;
import dalle2.training.TensorFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HalfPrecisionWeightsTest {

    @BeforeAll
    static void offline() {
        DjlRuntime.configure();
    }

    private static List<float[]> parameterValues(Prior prior) {
        List<float[]> values = new ArrayList<>();
        for (Pair<String, Parameter> entry : prior.network().getParameters()) {
            values.add(entry.getValue().getArray().toFloatArray());
        }
        return values;
    }

    @Test
    void aPriorStoredInHalfLoadsTheRoundedValuesExactlyAndPredictsAlmostAsBefore(@TempDir Path dir) throws Exception {
        try (NDManager manager = DjlRuntime.newManager(); Prior prior = Prior.create(PriorConfig.tiny(), manager)) {
            prior.save(dir);
            Path weights = dir.resolve(Prior.WEIGHTS_FILE);
            long fullSize = Files.size(weights);

            HalfPrecisionWeights.Report report = HalfPrecisionWeights.store(weights);

            assertEquals(fullSize, report.bytesBefore());
            assertTrue(report.bytesAfter() < 0.55 * fullSize, "float16 halves the file: " + report);
            assertTrue(report.maxAbsChange() > 0, "random weights are not all float16 values");
            assertTrue(report.maxRelChange() <= 0x1p-11, "round to nearest loses at most half an ulp: " + report);
            try (NDManager scope = manager.newSubManager()) {
                for (NDArray stored : TensorFile.read(weights, scope)) {
                    assertEquals(DataType.FLOAT16, stored.getDataType(), stored.getName());
                }
            }
            try (Prior loaded = Prior.load(dir, manager)) {
                List<float[]> original = parameterValues(prior);
                List<float[]> half = parameterValues(loaded);
                long parameters = 0;
                for (int p = 0; p < original.size(); p++) {
                    float[] rounded = manager.create(original.get(p)).toType(DataType.FLOAT16, false)
                            .toType(DataType.FLOAT32, false).toFloatArray();
                    assertArrayEquals(rounded, half.get(p), "loading widens float16 exactly");
                    parameters += rounded.length;
                }
                assertEquals(parameters, report.parameters());

                NDArray text = PriorTest.unitVectors(manager, 3, 16, 8);
                float[] full = prior.sample(text, 5, 0f, 2f, new long[] {1, 2, 3}).toFloatArray();
                float[] fromHalf = loaded.sample(text, 5, 0f, 2f, new long[] {1, 2, 3}).toFloatArray();
                double worst = 0;
                for (int i = 0; i < full.length; i++) {
                    worst = Math.max(worst, Math.abs(full[i] - fromHalf[i]));
                }
                assertNotEquals(0.0, worst, "the rounding is seen in the output");
                assertTrue(worst < 1e-2, "the rounding moves the sampled embeddings by " + worst);
            }

            byte[] once = Files.readAllBytes(weights);
            HalfPrecisionWeights.Report again = HalfPrecisionWeights.store(weights);
            assertEquals(0.0, again.maxAbsChange());
            assertArrayEquals(once, Files.readAllBytes(weights), "storing a float16 file again changes nothing");
        }
    }

    @Test
    void aValueBeyondHalfRangeIsRefusedAndTheFileKept(@TempDir Path dir) throws Exception {
        Path weights = dir.resolve("weights.safetensors");
        try (NDManager manager = DjlRuntime.newManager()) {
            NDArray big = manager.create(new float[] {1f, 70000f}, new Shape(2));
            big.setName("w");
            TensorFile.write(weights, new NDList(big));
        }
        byte[] before = Files.readAllBytes(weights);
        IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
                () -> HalfPrecisionWeights.store(weights));
        assertTrue(refused.getMessage().contains("w holds 70000.0"), refused.getMessage());
        assertArrayEquals(before, Files.readAllBytes(weights));
    }
}
