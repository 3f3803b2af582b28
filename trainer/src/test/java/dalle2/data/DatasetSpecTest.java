package dalle2.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetSpecTest {

    @TempDir
    Path dir;

    @Test
    void parsesKindsWithAndWithoutLocations() {
        DatasetSpec spec = DatasetSpec.parse("emoji, fashion-mnist:/x/fm ,jsonl:my pics,wds:C:/shards");

        assertEquals(List.of(new DatasetSpec.Entry("emoji", null), new DatasetSpec.Entry("fashion-mnist", Path.of("/x/fm")),
                new DatasetSpec.Entry("jsonl", Path.of("my pics")), new DatasetSpec.Entry("wds", Path.of("C:/shards"))), spec.entries());
        assertEquals("emoji,fashion-mnist:/x/fm,jsonl:my pics,wds:C:/shards", spec.toString());
    }

    @Test
    void emojiTakesVendorsAndResolutionAndWithoutThemStaysGoogleAndTwitter() {
        DatasetSpec spec = DatasetSpec.parse("emoji;vendors=google+fluent;resolution=256:/x/emoji,emoji;vendors=default,emoji");

        DatasetSpec.Entry corpus = spec.entries().get(0);
        assertEquals(List.of(EmojiVendor.GOOGLE, EmojiVendor.FLUENT), corpus.vendors());
        assertEquals(256, corpus.resolution());
        assertEquals(Path.of("/x/emoji"), corpus.location());
        assertEquals(EmojiVendor.defaults(), spec.entries().get(1).vendors());
        assertEquals(Map.of(), spec.entries().get(2).options(), "plain emoji: the shipped models' google and twitter");
        assertEquals("emoji;vendors=google+fluent;resolution=256:/x/emoji,emoji;vendors=default,emoji", spec.toString());
        assertTrue(EmojiVendor.defaults().stream().noneMatch(v -> v == EmojiVendor.APPLE || v == EmojiVendor.FACEBOOK),
                "drawings without a licence for training are opt-in");
        assertEquals(List.of(EmojiVendor.GOOGLE, EmojiVendor.APPLE), EmojiVendor.parseList("google,apple"));

        IllegalArgumentException vendor = assertThrows(IllegalArgumentException.class, () -> DatasetSpec.parse("emoji;vendors=noto"));
        assertTrue(vendor.getMessage().contains("'noto'") && vendor.getMessage().contains("fluent-flat"), vendor.getMessage());
        IllegalArgumentException option = assertThrows(IllegalArgumentException.class, () -> DatasetSpec.parse("fashion-mnist;vendors=x"));
        assertTrue(option.getMessage().contains("fashion-mnist takes no option 'vendors'"), option.getMessage());
        assertThrows(IllegalArgumentException.class, () -> DatasetSpec.parse("emoji;resolution=big"));
        assertThrows(IllegalArgumentException.class, () -> DatasetSpec.parse("emoji;size=64"));
    }

    @Test
    void unknownKindsAndMissingLocationsAreExplained() {
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class, () -> DatasetSpec.parse("emoji,cifar"));
        assertTrue(unknown.getMessage().contains("'cifar'") && unknown.getMessage().contains("fashion-mnist-test"), unknown.getMessage());
        IllegalArgumentException noDir = assertThrows(IllegalArgumentException.class, () -> DatasetSpec.parse("wds"));
        assertTrue(noDir.getMessage().contains("wds:DIR"), noDir.getMessage());
        assertThrows(IllegalArgumentException.class, () -> DatasetSpec.parse(" , "));
    }

    @Test
    void opensAMixtureOfEveryKindWithOneSizeAndOneReport() throws IOException {
        Path dataDir = dir.resolve("data");
        Fixtures.idxGz(dataDir.resolve("fashion-mnist/train-images-idx3-ubyte.gz"), new int[] {2, 28, 28}, new byte[2 * 784]);
        Fixtures.idxGz(dataDir.resolve("fashion-mnist/train-labels-idx1-ubyte.gz"), new int[] {2}, new byte[] {1, 8});
        Fixtures.idxGz(dataDir.resolve("fashion-mnist/t10k-images-idx3-ubyte.gz"), new int[] {1, 28, 28}, new byte[784]);
        Fixtures.idxGz(dataDir.resolve("fashion-mnist/t10k-labels-idx1-ubyte.gz"), new int[] {1}, new byte[] {5});
        Fixtures.write(dataDir.resolve("emoji/package/emoji.json"), EmojiDatasetTest.EMOJI_JSON);
        Fixtures.write(dataDir.resolve("emoji/package/img/google/64/1f600.png"), Fixtures.solidPng(64, 0xFFCC00));
        Fixtures.write(dir.resolve("mine/a.png"), Fixtures.solidPng(10, 0x112233));
        Fixtures.write(dir.resolve("mine/captions.jsonl"), "{\"image\": \"a.png\", \"caption\": \"my own\"}\n");
        Map<String, byte[]> shard = new LinkedHashMap<>();
        shard.put("0000.png", Fixtures.solidPng(10, 0x445566));
        shard.put("0000.txt", "from a shard".getBytes());
        Fixtures.tar(dir.resolve("shards/00000.tar"), shard);
        DatasetOptions options = DatasetOptions.of(32);

        ImageCaptionDataset mix = DatasetSpec.parse("emoji-google,fashion-mnist,fashion-mnist-test,jsonl:" + dir.resolve("mine")
                + ",wds:" + dir.resolve("shards")).open(dataDir, options);

        assertEquals(Map.of("emoji-google", 1, "fashion-mnist", 3, "jsonl-mine", 1, "wds-shards", 1), mix.countsBySource());
        assertEquals(32, mix.imageSize());
        assertEquals(4, options.report().skipped(DatasetReport.Reason.MISSING_FILE)); // 4 google PNGs are not in the fixture
        assertEquals(mix.report().skipped(), options.report().skipped());
        assertEquals(6, mix.loadAll().size());
    }
}
