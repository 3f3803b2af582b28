package dalle2.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Fetch (from tarballs already there, without npm), index, open, split: the corpus from end to end on fixtures. */
class EmojiCorpusTest {

    @TempDir
    Path dir;

    private Path emojiDir;
    private final List<String> log = new ArrayList<>();

    @BeforeEach
    void tarballs() throws IOException {
        emojiDir = dir.resolve("data/emoji");
        Map<String, byte[]> google = new LinkedHashMap<>();
        google.put("package/package.json", "{\"name\": \"emoji-datasource-google\"}".getBytes());
        google.put("package/emoji.json", EmojiCorpusIndexTest.EMOJI_JSON.getBytes());
        for (String image : List.of("1f600", "2764-fe0f", "0023-fe0f-20e3", "1f3c3-200d-2640-fe0f", "1f3c3-1f3fd-200d-2640-fe0f", "1f473")) {
            google.put("package/img/google/64/" + image + ".png", Fixtures.png(64, 64, (x, y) -> x < 8 ? 0 : 0xFF3366CC));
        }
        google.put("package/img/google/sheets-256/64.png", new byte[10]);
        Fixtures.tar(emojiDir.resolve("emoji-datasource-google-16.0.0.tgz"), google);

        byte[] apple = SvgRendererTest.resource("twemoji-1f34e.svg");
        Map<String, byte[]> twemoji = new LinkedHashMap<>();
        twemoji.put("package/package.json", "{\"name\": \"@twemoji/svg\"}".getBytes());
        for (String file : List.of("1f600", "2764", "1f3c3-1f3fd-200d-2640-fe0f", "1f1e6")) {
            twemoji.put("package/" + file + ".svg", apple);
        }
        Fixtures.tar(emojiDir.resolve("twemoji-svg-15.0.0.tgz"), twemoji);

        Map<String, byte[]> openmoji = new LinkedHashMap<>();
        openmoji.put("package/package.json", "{\"name\": \"openmoji\"}".getBytes());
        openmoji.put("package/data/openmoji.json", EmojiCorpusIndexTest.OPENMOJI_JSON.getBytes());
        openmoji.put("package/data/openmoji.csv", "unused".getBytes());
        byte[] grin = SvgRendererTest.resource("openmoji-1F600.svg");
        for (String file : List.of("1F600", "1F3C3-200D-2640-FE0F", "1F3C3-1F3FD-200D-2640-FE0F", "2764-FE0F", "E000", "1FA70-1F3FB")) {
            openmoji.put("package/color/svg/" + file + ".svg", grin);
        }
        openmoji.put("package/black/svg/1F600.svg", grin);
        openmoji.put("package/src/smileys-emotion/face-smiling/1F600.svg", grin);
        Fixtures.tar(emojiDir.resolve("openmoji-17.0.0.tgz"), openmoji);
    }

    private DataFetcher.FetchResult fetch() {
        DataFetcher fetcher = new DataFetcher("npm-that-is-not-installed", dir.resolve("no-debian"), log::add);
        return fetcher.fetch("emoji", dir.resolve("data"), List.of(EmojiVendor.GOOGLE, EmojiVendor.TWEMOJI, EmojiVendor.OPENMOJI));
    }

    @Test
    void aSecondFetchFindsEverythingAndChangesNothing() throws IOException {
        DataFetcher.FetchResult first = fetch();
        assertEquals(List.of(
                "emoji-datasource-google@16.0.0: 5 emoji, 6 images in " + emojiDir.resolve("emoji-datasource-google/package/img/google/64"),
                "google (emoji-datasource-google@16.0.0, Apache-2.0): 6 drawings at 64 px, 0 skipped",
                "twemoji (@twemoji/svg@15.0.0, CC-BY-4.0): 3 drawings at 256 px, 1 skipped",
                "openmoji (openmoji@17.0.0, CC-BY-SA-4.0): 6 drawings at 256 px, 1 skipped"), first.lines());
        assertTrue(Files.notExists(emojiDir.resolve("openmoji/package/black")), "OpenMoji's outlines are not extracted");
        assertTrue(Files.notExists(emojiDir.resolve("openmoji/package/src")), "nor its sources");
        assertTrue(Files.notExists(emojiDir.resolve("emoji-datasource-google/package/img/google/sheets-256")), "nor the sheets");
        Path index = EmojiCorpusIndex.file(emojiDir, EmojiVendor.TWEMOJI);
        Path svg = emojiDir.resolve("twemoji-svg/package/1f600.svg");
        FileTime indexTime = Files.getLastModifiedTime(index);
        FileTime svgTime = Files.getLastModifiedTime(svg);
        log.clear();

        DataFetcher.FetchResult second = fetch();

        assertEquals(first.lines(), second.lines());
        assertEquals(indexTime, Files.getLastModifiedTime(index));
        assertEquals(svgTime, Files.getLastModifiedTime(svg));
        assertTrue(log.stream().noneMatch(l -> l.startsWith("extracting") || l.startsWith("indexed") || l.startsWith("npm pack")), log.toString());
        assertTrue(log.contains("index of twemoji is current: " + index), log.toString());
    }

    @Test
    void theCorpusKeepsVendorLicenceAndAttributionOnEveryItemAndRendersItsSvgs() {
        fetch();
        DatasetOptions options = DatasetOptions.of(32);

        ImageCaptionDataset corpus = DatasetSpec.parse("emoji;vendors=google+twemoji+openmoji").open(dir.resolve("data"), options);

        assertEquals(Map.of("emoji-google", 6, "emoji-twemoji", 3, "emoji-openmoji", 6), corpus.countsBySource());
        for (ImageCaptionItem item : corpus.items()) {
            EmojiVendor vendor = EmojiVendor.parse(item.metadata().get("vendor"));
            assertEquals(vendor.source(), item.source());
            assertEquals(vendor.licence(), item.metadata().get("licence"), item.id());
            assertEquals(vendor.attribution(), item.metadata().get("attribution"), item.id());
            assertEquals(String.valueOf(vendor.resolution()), item.metadata().get("resolution"), item.id());
        }
        assertEquals(corpus.size(), corpus.loadAll().size(), "every PNG decodes and every SVG renders");
        assertEquals(2, options.report().skipped(), "twemoji's 1f1e6 and OpenMoji's nameless E001, from the index");
        assertEquals(0xFFFFFF, Fixtures.rgb(corpus.items().stream().filter(i -> i.source().equals("emoji-twemoji")).findFirst()
                .orElseThrow().loadImage().orElseThrow(), 0, 0), "transparency composited on white");
        ImageCaptionDataset vectors = DatasetSpec.parse("emoji;vendors=google+twemoji;resolution=256").open(dir.resolve("data"), DatasetOptions.of(32));
        assertEquals(Map.of("emoji-twemoji", 3), vectors.countsBySource(), "resolution=256 keeps the SVG sets");
    }

    @Test
    void theCorpusGivesThePngVendorsTheItemsThePlainEmojiDatasetGives() {
        fetch();

        ImageCaptionDataset plain = EmojiDataset.open(emojiDir, List.of(EmojiDataset.Vendor.GOOGLE), DatasetOptions.of(32));
        ImageCaptionDataset corpus = EmojiCorpus.open(emojiDir, List.of(EmojiVendor.GOOGLE), 0, DatasetOptions.of(32));

        assertEquals(plain.items().stream().map(i -> i.id() + i.splitKey() + i.captions()).toList(),
                corpus.items().stream().map(i -> i.id() + i.splitKey() + i.captions()).toList());
    }

    @Test
    void trainingNeverSeesAHeldOutNameOrTheHeldOutVendorAndEvaluationSeesBoth() {
        fetch();
        ImageCaptionDataset corpus = EmojiCorpus.open(emojiDir, List.of(EmojiVendor.GOOGLE, EmojiVendor.TWEMOJI, EmojiVendor.OPENMOJI),
                0, DatasetOptions.of(16));
        // a fraction between the two smallest buckets of google's names: one of them is held out
        double[] buckets = corpus.items().stream().filter(i -> i.source().equals("emoji-google")).map(ImageCaptionItem::splitKey)
                .distinct().mapToDouble(HeldOutSplit::bucket).sorted().toArray();
        HeldOutSplit split = new HeldOutSplit((buckets[0] + buckets[1]) / 2);
        assertEquals(Set.of("emoji-openmoji"), split.heldOutSources(), "OpenMoji is the default held-out vendor");

        ImageCaptionDataset train = corpus.heldIn(split);
        ImageCaptionDataset heldOut = corpus.heldOut(split);

        Set<String> trainIds = ids(train);
        Set<String> heldOutIds = ids(heldOut);
        assertTrue(trainIds.stream().noneMatch(heldOutIds::contains), "disjoint");
        assertEquals(corpus.size(), trainIds.size() + heldOutIds.size(), "together, everything");
        assertFalse(train.items().isEmpty());
        assertTrue(train.items().stream().noneMatch(i -> i.source().equals("emoji-openmoji")), "no held-out vendor in training");
        assertTrue(train.items().stream().noneMatch(i -> split.isHeldOut(i.splitKey())), "no held-out name in training");
        Set<String> heldOutKeys = new HashSet<>();
        corpus.items().stream().filter(split::isHeldOutName).forEach(i -> heldOutKeys.add(i.splitKey()));
        assertFalse(heldOutKeys.isEmpty());
        assertTrue(train.items().stream().noneMatch(i -> heldOutKeys.contains(i.splitKey())), "a held-out name is held out in every vendor");
        ImageCaptionDataset names = corpus.heldOutNames(split);
        ImageCaptionDataset vendor = corpus.heldOutVendor(split);
        assertFalse(names.items().isEmpty());
        assertFalse(vendor.items().isEmpty());
        assertTrue(names.items().stream().allMatch(i -> heldOutKeys.contains(i.splitKey()) && !i.source().equals("emoji-openmoji")));
        assertTrue(vendor.items().stream().allMatch(i -> i.source().equals("emoji-openmoji") && !heldOutKeys.contains(i.splitKey())));
        assertTrue(heldOutIds.containsAll(ids(names)) && heldOutIds.containsAll(ids(vendor)));

        HeldOutSplit noVendor = split.withHeldOutVendor("none");
        assertTrue(corpus.heldIn(noVendor).items().stream().anyMatch(i -> i.source().equals("emoji-openmoji")));
        assertEquals(Set.of("emoji-twemoji"), split.withHeldOutVendor("twemoji").heldOutSources());
    }

    @Test
    void aVendorNotFetchedIsNamedWithTheCommandThatFetchesIt() {
        DatasetException e = assertThrows(DatasetException.class,
                () -> DatasetSpec.parse("emoji;vendors=fluent").open(dir.resolve("data"), DatasetOptions.of(32)));
        assertTrue(e.getMessage().contains("dalle2 data fetch emoji --vendors fluent"), e.getMessage());
    }

    private static Set<String> ids(ImageCaptionDataset d) {
        Set<String> ids = new HashSet<>();
        d.items().forEach(i -> ids.add(i.id()));
        return ids;
    }
}
