package dalle2.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle2.messages.ModelLineage;
import dalle2.messages.ModelVersion;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
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
        assertArrayEquals(lineage.json(), Files.readAllBytes(first.resolve("model").resolve(ModelLineage.FILE)),
                "the bytes a published version's lineage has, so the folder's version is the registry's");

        Path second = dir.resolve("second");
        assertEquals(0, train(common, "--out", second.toString(), "--init-from", first.resolve("model").toString()));
        ModelLineage fromFirst = ModelLineage.in(second.resolve("model")).orElseThrow();
        assertEquals(ModelVersion.of("clip", clip), fromFirst.clipVersion());
        assertEquals(ModelVersion.of("prior", first.resolve("model")), fromFirst.baseVersion());
    }

    @Test
    void embedWritesTheEmbeddingsThatPriorTrainingThenReadsInsteadOfEmbeddingAgain(@TempDir Path dir) throws Exception {
        Path data = dir.resolve("data");
        TrainingsCommandTest.writeSquares(data.resolve("squares"));
        Path clip = TinyModels.folder().resolve("clip");
        Path embeddings = dir.resolve("embeddings");
        String dataset = "jsonl:" + data.resolve("squares");
        StringWriter embedErr = new StringWriter();
        assertEquals(0, new CommandLine(new Main()).setErr(new PrintWriter(embedErr)).execute("embed", "--clip",
                clip.toString(), "--data-dir", data.toString(), "--data", dataset, "--image-size",
                "" + TinyModels.IMAGE_SIZE, "--out", embeddings.toString()), embedErr.toString());
        assertTrue(Files.list(embeddings).findAny().isPresent(), "embeddings written");

        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        PrintStream stderr = System.err;
        System.setErr(new PrintStream(printed, true));
        int code;
        try {
            code = train(new String[] {"--data-dir", data.toString(), "--data", dataset, "--image-size",
                    "" + TinyModels.IMAGE_SIZE, "--clip", clip.toString(), "--embeddings", embeddings.toString(),
                    "--steps", "2", "--warmup", "1", "--batch-size", "2", "--width", "16", "--depth", "1",
                    "--heads", "2"}, "--out", dir.resolve("prior").toString());
        } finally {
            System.setErr(stderr);
        }
        assertEquals(0, code, printed.toString());
        assertFalse(printed.toString().contains("embedding "), "the prior read embed's folder: " + printed);
    }

    @Test
    void aDatasetThatCannotBeReadEndsTheCommandWithItsReasonNotATrace(@TempDir Path dir) {
        StringWriter err = new StringWriter();
        PrintStream stderr = System.err;
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        System.setErr(new PrintStream(printed, true));
        int code;
        try {
            code = new CommandLine(new Main()).setErr(new PrintWriter(err)).execute("train", "prior", "--data-dir",
                    dir.toString(), "--data", "jsonl:" + dir.resolve("missing"), "--clip",
                    TinyModels.folder().resolve("clip").toString(), "--out", dir.resolve("out").toString(),
                    "--steps", "2", "--warmup", "1");
        } finally {
            System.setErr(stderr);
        }
        assertEquals(2, code, printed + " / " + err);
        assertTrue(printed.toString().contains("dalle2 train prior: no captions.jsonl in"), printed + " / " + err);
        assertFalse(printed.toString().contains("\tat "), printed.toString());
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
