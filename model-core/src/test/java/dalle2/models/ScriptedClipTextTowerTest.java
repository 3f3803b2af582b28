package dalle2.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dalle2.djl.DjlRuntime;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** CLIP's text tower as one compiled TorchScript call against the same tower run op by op. */
class ScriptedClipTextTowerTest {

    @Test
    void theShippedTextTowerGivesTheOpByOpEmbeddingsForCaptionsOfDifferentLengths() throws Exception {
        List<String> prompts = List.of("a photo of a sneaker", "an ankle boot", "a bag",
                "a photo of a pullover with long sleeves on a white background");
        try (NDManager manager = DjlRuntime.newManager();
             ClipEncoder clip = ClipEncoder.load(Path.of("../trained_models/clip"), manager)) {
            float[] scripted = clip.encodeText(prompts).toFloatArray();
            float[] opByOp;
            System.setProperty(DjlRuntime.SCRIPTED_FORWARD, "false");
            try {
                opByOp = clip.encodeText(prompts).toFloatArray();
            } finally {
                System.clearProperty(DjlRuntime.SCRIPTED_FORWARD);
            }
            assertArrayEquals(opByOp, scripted, 2e-6f, "unit rows, so an absolute tolerance");
            NDArray rows = manager.create(scripted).reshape(prompts.size(), -1);
            assertTrue(rows.get(0).sub(rows.get(1)).abs().max().getFloat() > 1e-2f, "different prompts differ");
        }
    }
}
