package dalle2.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle2.json.Json;
import dalle2.models.DecoderConfig;
import dalle2.sampling.PredictionType;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code dalle2 train decoder --prediction}: what the decoder learns to predict, kept in the model it writes. */
class TrainDecoderPredictionTest {

    @Test
    void aDecoderTrainedToPredictVSaysSoInItsConfigAndTheDefaultStaysEpsilon(@TempDir Path dir) throws Exception {
        Path data = dir.resolve("data");
        TrainingsCommandTest.writeSquares(data.resolve("squares"));
        Path embeddings = dir.resolve("embeddings");

        StringWriter err = new StringWriter();
        assertEquals(0, train(err, data, embeddings, dir.resolve("v"), "--prediction", "v"), err.toString());
        assertEquals(PredictionType.V, config(dir.resolve("v")).predictionType());

        assertEquals(0, train(err, data, embeddings, dir.resolve("default")), err.toString());
        assertEquals(PredictionType.EPSILON, config(dir.resolve("default")).predictionType());
    }

    @Test
    void anUnknownPredictionIsRefusedNamingTheOptionBeforeAnyDataIsRead(@TempDir Path dir) {
        StringWriter err = new StringWriter();
        int code = train(err, dir.resolve("no-such-data"), dir.resolve("embeddings"), dir.resolve("out"),
                "--prediction", "noise");

        assertEquals(2, code, err.toString());
        assertTrue(err.toString().contains("--prediction"), err.toString());
        assertTrue(err.toString().contains("expected epsilon, sample or v"), err.toString());
        assertFalse(Files.exists(dir.resolve("out")), "nothing was started");
    }

    private static DecoderConfig config(Path run) {
        return Json.readFile(run.resolve("model").resolve("config.json"), DecoderConfig.class);
    }

    private static int train(StringWriter err, Path data, Path embeddings, Path out, String... more) {
        String[] common = {"train", "decoder", "--data-dir", data.toString(), "--data",
                "jsonl:" + data.resolve("squares"), "--image-size", "" + TinyModels.IMAGE_SIZE, "--clip",
                TinyModels.folder().resolve("clip").toString(), "--embeddings", embeddings.toString(),
                "--out", out.toString(), "--steps", "2", "--warmup", "1", "--batch-size", "2",
                "--base-channels", "8", "--channel-mult", "1,2", "--attention", "16"};
        String[] args = new String[common.length + more.length];
        System.arraycopy(common, 0, args, 0, common.length);
        System.arraycopy(more, 0, args, common.length, more.length);
        return new CommandLine(new Main()).setErr(new PrintWriter(err, true)).execute(args);
    }
}
