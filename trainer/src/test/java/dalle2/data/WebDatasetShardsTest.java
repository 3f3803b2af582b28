package dalle2.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WebDatasetShardsTest {

    @TempDir
    Path dir;

    private void writeShards() throws IOException {
        Map<String, byte[]> first = new LinkedHashMap<>();
        first.put("000000000.jpg", Fixtures.jpeg(24, 24, 0xFF0000));
        first.put("000000000.txt", "a red square".getBytes());
        first.put("000000000.json", "{\"url\": \"http://example.invalid/0.jpg\"}".getBytes());
        first.put("000000001.txt", "a caption whose image failed to download".getBytes());
        first.put("000000002.png", Fixtures.solidPng(8, 0x00FF00));
        first.put("000000003.png", Fixtures.solidPng(8, 0x0000FF));
        first.put("000000003.txt", "  ".getBytes());
        first.put("000000004.png", "corrupt".getBytes());
        first.put("000000004.txt", "a corrupt image".getBytes());
        Fixtures.tar(dir.resolve("00000.tar"), first);
        Map<String, byte[]> second = new LinkedHashMap<>();
        second.put("000010000.txt", "a green square".getBytes());
        second.put("000010000.png", Fixtures.solidPng(12, 0x00FF00));
        Fixtures.tar(dir.resolve("00001.tar"), second);
        Fixtures.write(dir.resolve("00002.tar"), "not a tar file at all, just some text that is long enough".repeat(20));
    }

    @Test
    void samplesAreGroupedByKeyAcrossShardsAndBadOnesAreCounted() throws IOException {
        writeShards();
        DatasetOptions options = DatasetOptions.of(16);

        ImageCaptionDataset d = WebDatasetShards.open(dir, options);

        assertEquals(List.of("a red square", "a corrupt image", "a green square"),
                d.items().stream().map(ImageCaptionItem::caption).toList());
        String source = "wds-" + dir.getFileName();
        assertEquals(source + "/00001.tar/000010000", d.get(2).id());
        assertEquals("00001.tar", d.get(2).metadata().get("shard"));
        DatasetReport r = options.report();
        assertEquals(1, r.skipped(DatasetReport.Reason.NO_IMAGE));
        assertEquals(1, r.skipped(DatasetReport.Reason.NO_CAPTION));
        assertEquals(1, r.skipped(DatasetReport.Reason.EMPTY_CAPTION));
        assertEquals(1, r.skipped(DatasetReport.Reason.CORRUPT_ARCHIVE));
    }

    @Test
    void imagesAreReadLazilyFromTheirOffsetInTheShard() throws IOException {
        writeShards();
        DatasetOptions options = DatasetOptions.of(16);
        ImageCaptionDataset d = WebDatasetShards.open(dir, options);

        List<LoadedItem> loaded = d.loadAll();

        assertEquals(2, loaded.size());
        int red = Fixtures.rgb(loaded.get(0).image(), 8, 8);
        assertTrue((red >> 16) > 240 && (red & 0xFF) < 20, Integer.toHexString(red));
        assertEquals(0x00FF00, Fixtures.rgb(loaded.get(1).image(), 8, 8));
        assertEquals(1, options.report().skipped(DatasetReport.Reason.CORRUPT_IMAGE));
    }

    @Test
    void oneShardCanBeOpenedOnItsOwn() throws IOException {
        writeShards();
        ImageCaptionDataset d = WebDatasetShards.open(dir.resolve("00001.tar"), DatasetOptions.of(16));
        assertEquals(1, d.size());
        assertEquals("a green square", d.get(0).caption());
    }
}
