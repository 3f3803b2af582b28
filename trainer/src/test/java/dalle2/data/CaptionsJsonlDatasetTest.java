package dalle2.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CaptionsJsonlDatasetTest {

    @TempDir
    Path dir;

    private void writeFolder() throws IOException {
        Fixtures.write(dir.resolve("cats/1.png"), Fixtures.solidPng(20, 0x808000));
        Fixtures.write(dir.resolve("dog.jpg"), Fixtures.jpeg(40, 20, 0x0000FF));
        Fixtures.write(dir.resolve("broken.png"), "this is not a png");
        Fixtures.write(dir.resolve("captions.jsonl"), String.join("\n",
                "{\"image\": \"cats/1.png\", \"caption\": \"a cat on a mat\"}",
                "{\"image\": \"dog.jpg\", \"caption\": \"a blue dog\"}",
                "{\"image\": \"cats/1.png\", \"captions\": [\"an olive cat\", \"a cat on a mat\"]}",
                "{\"image\": \"missing.png\", \"caption\": \"never there\"}",
                "{\"image\": \"dog.jpg\" \"caption\": oops",
                "",
                "{\"image\": \"broken.png\", \"caption\": \"a broken file\"}",
                "{\"image\": \"dog.jpg\", \"caption\": \"   \"}",
                "{\"caption\": \"no image\"}",
                "{\"image\": \"../outside.png\", \"caption\": \"escapes\"}"));
    }

    @Test
    void linesAreGroupedByImageAndBadLinesAreSkippedAndCounted() throws IOException {
        writeFolder();
        DatasetOptions options = DatasetOptions.of(16);

        ImageCaptionDataset d = CaptionsJsonlDataset.open(dir, options);

        assertEquals(3, d.size());
        assertEquals(List.of("a cat on a mat", "an olive cat"), d.get(0).captions());
        assertEquals(List.of("a blue dog"), d.get(1).captions());
        String source = "jsonl-" + dir.getFileName();
        assertEquals(source + "/cats/1.png", d.get(0).id());
        DatasetReport r = options.report();
        assertEquals(1, r.skipped(DatasetReport.Reason.MISSING_FILE));
        assertEquals(2, r.skipped(DatasetReport.Reason.BAD_JSON)); // malformed line, line without image
        assertEquals(1, r.skipped(DatasetReport.Reason.EMPTY_CAPTION));
        assertEquals(1, r.skipped(DatasetReport.Reason.BAD_PATH));
        assertTrue(r.examples().stream().anyMatch(s -> s.itemId().equals("captions.jsonl:5")), r.examples().toString());
    }

    @Test
    void aCorruptImageIsSkippedWhenTheEpochReachesIt() throws IOException {
        writeFolder();
        DatasetOptions options = DatasetOptions.of(16);
        ImageCaptionDataset d = CaptionsJsonlDataset.open(dir, options);

        List<String> seen = new java.util.ArrayList<>();
        d.epoch(3).forEachRemaining(loaded -> seen.add(loaded.item().caption()));

        assertEquals(2, seen.size());
        assertEquals(1, options.report().skipped(DatasetReport.Reason.CORRUPT_IMAGE));
    }

    @Test
    void aNonSquareJpegIsPaddedWithWhite() throws IOException {
        writeFolder();
        ImageCaptionItem dog = CaptionsJsonlDataset.open(dir, DatasetOptions.of(16)).get(1);

        var image = dog.loadImage().orElseThrow();

        assertEquals(16, image.getWidth());
        assertEquals(0xFFFFFF, Fixtures.rgb(image, 8, 0));
        int centre = Fixtures.rgb(image, 8, 8);
        assertTrue((centre & 0xFF) > 200 && (centre >> 16) < 40, Integer.toHexString(centre));
    }

    @Test
    void strictModeStopsAtTheFirstBadLineNamingIt() throws IOException {
        writeFolder();
        DatasetException e = assertThrows(DatasetException.class,
                () -> CaptionsJsonlDataset.open(dir, DatasetOptions.of(16).strict()));
        assertTrue(e.getMessage().contains("captions.jsonl:5") && e.getMessage().contains("unreadable JSON line"), e.getMessage());
    }

    @Test
    void aFolderWithoutCaptionsJsonlSaysWhatIsExpected() {
        DatasetException e = assertThrows(DatasetException.class, () -> CaptionsJsonlDataset.open(dir, DatasetOptions.of(16)));
        assertTrue(e.getMessage().contains("captions.jsonl"), e.getMessage());
    }
}
