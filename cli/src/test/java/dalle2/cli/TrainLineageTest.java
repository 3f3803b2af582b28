package dalle2.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dalle2.messages.ModelLineage;
import dalle2.messages.ModelVersion;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** A prior or decoder trained by {@code dalle2 train} names the CLIP it works in, as a published model does. */
class TrainLineageTest {

    @Test
    void aTrainedPriorNamesItsClipAndARunFromAModelNamesThatModelToo(@TempDir Path dir) throws Exception {
        Path data = dir.resolve("data");
        TrainingsCommandTest.writeSquares(data.resolve("squares"));
        Path clip = TinyModels.folder().resolve("clip");
        String[] common = {"--data-dir", data.toString(), "--data", "jsonl:" + data.resolve("squares"), "--image-size",
                "" + TinyModels.IMAGE_SIZE, "--clip", clip.toString(), "--steps", "2", "--warmup", "1",
                "--batch-size", "2", "--width", "16", "--depth", "1", "--heads", "2"};

        Path first = dir.resolve("first");
        assertEquals(0, train(common, "--out", first.toString()), "train prior");
        ModelLineage lineage = ModelLineage.in(first.resolve("model")).orElseThrow();
        assertEquals(ModelVersion.of("clip", clip), lineage.clipVersion());
        assertNull(lineage.baseVersion());

        Path second = dir.resolve("second");
        assertEquals(0, train(common, "--out", second.toString(), "--init-from", first.resolve("model").toString()));
        ModelLineage fromFirst = ModelLineage.in(second.resolve("model")).orElseThrow();
        assertEquals(ModelVersion.of("clip", clip), fromFirst.clipVersion());
        assertEquals(ModelVersion.of("prior", first.resolve("model")), fromFirst.baseVersion());
    }

    private static int train(String[] common, String... more) {
        String[] args = new String[2 + common.length + more.length];
        args[0] = "train";
        args[1] = "prior";
        System.arraycopy(common, 0, args, 2, common.length);
        System.arraycopy(more, 0, args, 2 + common.length, more.length);
        StringWriter err = new StringWriter();
        int code = new CommandLine(new Main()).setErr(new PrintWriter(err)).execute(args);
        if (code != 0) {
            System.err.println(err);
        }
        return code;
    }
}
