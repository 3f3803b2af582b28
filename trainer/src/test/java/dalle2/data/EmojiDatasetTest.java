package dalle2.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EmojiDatasetTest {

    @TempDir
    Path dir;

    /** A fragment of the real emoji.json: four emoji, one with a skin-tone variant, one whose google PNG is missing. */
    static final String EMOJI_JSON = """
            [
             {"name": "GRINNING FACE", "unified": "1F600", "image": "1f600.png", "short_name": "grinning",
              "short_names": ["grinning"], "category": "Smileys & Emotion", "subcategory": "face-smiling",
              "has_img_google": true, "has_img_twitter": true},
             {"name": "WOMAN RUNNING", "unified": "1F3C3-200D-2640-FE0F", "image": "1f3c3-200d-2640-fe0f.png",
              "short_names": ["woman-running"], "category": "People & Body", "subcategory": "person-activity",
              "has_img_google": true, "has_img_twitter": true,
              "skin_variations": {
                "1F3FD": {"unified": "1F3C3-1F3FD-200D-2640-FE0F", "image": "1f3c3-1f3fd-200d-2640-fe0f.png",
                          "has_img_google": true, "has_img_twitter": false}}},
             {"name": "RED APPLE", "unified": "1F34E", "image": "1f34e.png", "short_names": ["apple"],
              "category": "Food & Drink", "subcategory": "food-fruit", "has_img_google": true, "has_img_twitter": true},
             {"name": "France Flag", "unified": "1F1EB-1F1F7", "image": "1f1eb-1f1f7.png", "short_names": ["fr", "flag-fr"],
              "category": "Flags", "subcategory": "country-flag", "has_img_google": true, "has_img_twitter": false}
            ]
            """;

    /** RGBA drawings with transparent corners, like the real 64x64 PNGs. */
    private static byte[] drawing(int rgb) throws IOException {
        return Fixtures.png(64, 64, (x, y) -> (x < 8 && y < 8) ? 0x00000000 : 0xFF000000 | rgb);
    }

    private static Map<String, byte[]> packageFiles() throws IOException {
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("package/package.json", "{\"name\": \"emoji-datasource\"}".getBytes());
        files.put("package/emoji.json", EMOJI_JSON.getBytes());
        files.put("package/img/google/64/1f600.png", drawing(0xFFCC00));
        files.put("package/img/google/64/1f3c3-200d-2640-fe0f.png", drawing(0x3366FF));
        files.put("package/img/google/64/1f3c3-1f3fd-200d-2640-fe0f.png", drawing(0x996633));
        files.put("package/img/google/64/1f1eb-1f1f7.png", drawing(0x0000FF));
        // no google 1f34e.png: the red apple is missing
        files.put("package/img/twitter/64/1f600.png", drawing(0xFFDD00));
        files.put("package/img/twitter/64/1f3c3-200d-2640-fe0f.png", drawing(0x3377FF));
        files.put("package/img/twitter/64/1f34e.png", drawing(0xFF0000));
        return files;
    }

    private void writeExtracted() throws IOException {
        for (Map.Entry<String, byte[]> f : packageFiles().entrySet()) {
            Fixtures.write(dir.resolve(f.getKey()), f.getValue());
        }
    }

    @Test
    void everyDrawnEmojiAndSkinToneIsOneItemPerVendor() throws IOException {
        writeExtracted();
        DatasetOptions options = DatasetOptions.of(32);

        ImageCaptionDataset d = EmojiDataset.open(dir, options);

        assertEquals(Map.of("emoji-google", 4, "emoji-twitter", 3), d.countsBySource());
        assertEquals(List.of("emoji-google/1f600", "emoji-google/1f3c3-200d-2640-fe0f",
                "emoji-google/1f3c3-1f3fd-200d-2640-fe0f", "emoji-google/1f1eb-1f1f7", "emoji-twitter/1f600",
                "emoji-twitter/1f3c3-200d-2640-fe0f", "emoji-twitter/1f34e"), d.items().stream().map(ImageCaptionItem::id).toList());
        assertEquals(1, options.report().skipped(DatasetReport.Reason.MISSING_FILE));
        assertTrue(options.report().examples().get(0).itemId().equals("emoji-google/1f34e"), options.report().examples().toString());
    }

    @Test
    void captionsComeFromTheNamesLowerCasedWithTheSkinToneAsCldrWritesIt() throws IOException {
        writeExtracted();
        Map<String, ImageCaptionItem> byId = new LinkedHashMap<>();
        EmojiDataset.open(dir, DatasetOptions.of(32)).items().forEach(i -> byId.put(i.id(), i));

        assertEquals(List.of("grinning face", "grinning"), byId.get("emoji-google/1f600").captions());
        assertEquals(List.of("woman running"), byId.get("emoji-google/1f3c3-200d-2640-fe0f").captions());
        assertEquals(List.of("woman running: medium skin tone"), byId.get("emoji-google/1f3c3-1f3fd-200d-2640-fe0f").captions());
        assertEquals(List.of("red apple", "apple"), byId.get("emoji-twitter/1f34e").captions());
        assertEquals(List.of("france flag", "flag of france"), byId.get("emoji-google/1f1eb-1f1f7").captions());
    }

    @Test
    void itemsKeepCategoryAndSubcategory() throws IOException {
        writeExtracted();
        ImageCaptionItem item = EmojiDataset.open(dir, DatasetOptions.of(32)).items().stream()
                .filter(i -> i.id().equals("emoji-google/1f3c3-1f3fd-200d-2640-fe0f")).findFirst().orElseThrow();

        assertEquals("People & Body", item.metadata().get("category"));
        assertEquals("person-activity", item.metadata().get("subcategory"));
        assertEquals("medium skin tone", item.metadata().get("skin_tone"));
        assertEquals("google", item.metadata().get("vendor"));
    }

    @Test
    void bothVendorsAndAllSkinTonesOfAnEmojiShareTheirSplitKey() throws IOException {
        writeExtracted();
        List<ImageCaptionItem> items = EmojiDataset.open(dir, DatasetOptions.of(32)).items();

        List<String> runningKeys = items.stream().filter(i -> i.caption().startsWith("woman running"))
                .map(ImageCaptionItem::splitKey).distinct().toList();
        List<String> grinningKeys = items.stream().filter(i -> i.caption().equals("grinning face"))
                .map(ImageCaptionItem::splitKey).distinct().toList();

        assertEquals(List.of("emoji/1f3c3-200d-2640-fe0f"), runningKeys);
        assertEquals(List.of("emoji/1f600"), grinningKeys);
    }

    @Test
    void imagesAreCompositedOnWhiteAndHalved() throws IOException {
        writeExtracted();
        ImageCaptionItem grinning = EmojiDataset.open(dir, DatasetOptions.of(32)).get(0);

        BufferedImage image = grinning.loadImage().orElseThrow();

        assertEquals(32, image.getWidth());
        assertEquals(0xFFFFFF, Fixtures.rgb(image, 0, 0)); // transparent corner
        assertEquals(0xFFCC00, Fixtures.rgb(image, 20, 20));
    }

    @Test
    void theNpmTarballReadsTheSameAsTheExtractedPackage() throws IOException {
        Path tgzDir = Files.createDirectories(dir.resolve("tgz"));
        Fixtures.tar(tgzDir.resolve("emoji-datasource-google-16.0.0.tgz"), packageFiles());
        Fixtures.tar(tgzDir.resolve("emoji-datasource-twitter-16.0.0.tgz"), packageFiles());
        Path extracted = Files.createDirectories(dir.resolve("extracted"));
        for (Map.Entry<String, byte[]> f : packageFiles().entrySet()) {
            Fixtures.write(extracted.resolve(f.getKey()), f.getValue());
        }

        ImageCaptionDataset fromTgz = EmojiDataset.open(tgzDir, DatasetOptions.of(16));
        ImageCaptionDataset fromFolder = EmojiDataset.open(extracted, DatasetOptions.of(16));

        assertEquals(fromFolder.items().stream().map(ImageCaptionItem::toString).toList(),
                fromTgz.items().stream().map(ImageCaptionItem::toString).toList());
        assertEquals(Fixtures.rgb(fromFolder.get(2).loadImage().orElseThrow(), 8, 8),
                Fixtures.rgb(fromTgz.get(2).loadImage().orElseThrow(), 8, 8));
        assertEquals(1, fromTgz.report().skipped(DatasetReport.Reason.MISSING_FILE));
    }

    @Test
    void aCorruptPngIsSkippedAtLoadTimeOrStopsNamingTheItemWhenStrict() throws IOException {
        writeExtracted();
        Files.write(dir.resolve("package/img/google/64/1f600.png"), new byte[] {(byte) 0x89, 'P', 'N', 'G', 1, 2, 3});
        DatasetOptions options = DatasetOptions.of(32);
        ImageCaptionDataset lenient = EmojiDataset.open(dir, List.of(EmojiDataset.Vendor.GOOGLE), options);

        List<LoadedItem> loaded = lenient.loadAll();

        assertEquals(3, loaded.size()); // 4 indexed (the apple is missing), the grinning face is corrupt
        assertEquals(1, options.report().skipped(DatasetReport.Reason.CORRUPT_IMAGE));
        assertEquals(1, options.report().skipped(DatasetReport.Reason.MISSING_FILE));
        assertEquals("2 skipped (missing file 1, corrupt image 1)", options.report().summary());

        DatasetException e = assertThrows(DatasetException.class,
                () -> EmojiDataset.open(dir, List.of(EmojiDataset.Vendor.GOOGLE), DatasetOptions.of(32).strict()));
        assertTrue(e.getMessage().contains("emoji-google/1f34e") && e.getMessage().contains("missing file"), e.getMessage());
    }

    @Test
    void aMissingPackageSaysHowToFetchIt() {
        DatasetException e = assertThrows(DatasetException.class, () -> EmojiDataset.open(dir, DatasetOptions.of(32)));
        assertTrue(e.getMessage().contains("dalle2 data fetch emoji"), e.getMessage());
        assertFalse(EmojiDataset.isPresent(dir, EmojiDataset.Vendor.GOOGLE));
    }

    @Test
    void shortNamesBecomeWordsAndCodesAreLeftOut() {
        assertEquals("smiley cat", EmojiDataset.shortNameCaption("smiley_cat"));
        assertEquals("woman running", EmojiDataset.shortNameCaption("woman-running"));
        assertEquals("x-ray", EmojiDataset.shortNameCaption("x-ray"));
        assertEquals("non-potable water", EmojiDataset.shortNameCaption("non-potable_water"));
        assertEquals("flag england", EmojiDataset.shortNameCaption("flag-england"));
        assertEquals(null, EmojiDataset.shortNameCaption("flag-fr"));
        assertEquals(null, EmojiDataset.shortNameCaption("clock9"));
        assertEquals(null, EmojiDataset.shortNameCaption("+1"));
        assertEquals(null, EmojiDataset.shortNameCaption("skin-tone-2"));
    }

    @Test
    void skinTonesFollowCldrForAttributesAndCouples() {
        assertEquals(List.of("woman: medium-dark skin tone, red hair", "red haired woman: medium-dark skin tone"),
                EmojiDataset.captions("WOMAN: RED HAIR", List.of("red_haired_woman"), "person", "1F3FE"));
        assertEquals(List.of("kiss: woman, man, light skin tone, dark skin tone", "woman kiss man: light skin tone, dark skin tone"),
                EmojiDataset.captions("KISS: WOMAN, MAN", List.of("woman-kiss-man"), "family", "1F3FB-1F3FF"));
        assertEquals(List.of("handshake: light skin tone"),
                EmojiDataset.captions("HANDSHAKE", List.of("handshake"), "hands", "1F3FB-1F3FB"));
    }
}
