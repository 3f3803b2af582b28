package dalle2.script;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import dalle2.djl.DjlRuntime;
import dalle2.models.GroupNorm;
import java.io.ByteArrayInputStream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import org.junit.jupiter.api.Test;

class TorchScriptArchiveTest {

    @Test
    void libtorchLoadsTheArchiveAndRunsItsForwardWithTheBlocksCurrentWeights() {
        try (NDManager manager = DjlRuntime.newManager()) {
            GroupNorm norm = new GroupNorm(4, 8);
            norm.initialize(manager, DataType.FLOAT32, new Shape(2, 8, 3, 3));
            ScriptWriter code = new ScriptWriter(norm);
            code.line("return " + norm.script(code, "x"));
            ScriptedForward scripted = ScriptedForward.compile(manager,
                    TorchScriptArchive.of("GroupNormOnly", code.forwardMethod("x: Tensor")), norm);
            NDArray x = manager.randomNormal(new Shape(2, 8, 3, 3));
            for (float gamma : new float[] {1f, 3f}) {
                norm.getParameters().get("gamma").getArray().set(new float[] {gamma, gamma, gamma, gamma, gamma,
                        gamma, gamma, gamma});
                NDArray expected = norm.forward(new ParameterStore(manager, false), new NDList(x), false)
                        .singletonOrThrow();
                NDArray actual = DjlRuntime.withoutGradients(() -> scripted.forward(x));
                assertTrue(expected.sub(actual).abs().max().getFloat() < 1e-5f, "gamma " + gamma);
            }
        }
    }

    @Test
    void theArchiveIsStoredUnderOneFolderWithTheFourRecordsLibtorchReads() throws Exception {
        byte[] archive = TorchScriptArchive.of("Identity", "  def forward(self, x: Tensor) -> Tensor:\n    return x\n");
        StringBuilder names = new StringBuilder();
        try (ZipInputStream zip = new ZipInputStream(new ByteArrayInputStream(archive))) {
            for (ZipEntry entry = zip.getNextEntry(); entry != null; entry = zip.getNextEntry()) {
                assertEquals(ZipEntry.STORED, entry.getMethod(), entry.getName());
                names.append(entry.getName()).append(' ');
            }
        }
        assertEquals("archive/data.pkl archive/code/__torch__.py archive/constants.pkl archive/version ",
                names.toString());
    }

    @Test
    void aClassNameThatIsNotACapitalisedIdentifierIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TorchScriptArchive.of("decoder unet", "  def forward(self, x: Tensor) -> Tensor:\n    return x\n"));
        assertTrue(e.getMessage().contains("'decoder unet'"), e.getMessage());
    }
}
