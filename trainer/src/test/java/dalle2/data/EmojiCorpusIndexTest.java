package dalle2.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The parsers of each vector set's index, on fragments of the real files, and the index on disk. */
class EmojiCorpusIndexTest {

    @TempDir
    Path dir;

    /** emoji.json: a variation selector (heart), a keycap with leading zeros, a skin tone, and an obsolete emoji. */
    static final String EMOJI_JSON = """
            [
             {"name": "GRINNING FACE", "unified": "1F600", "image": "1f600.png", "short_names": ["grinning"],
              "category": "Smileys & Emotion", "subcategory": "face-smiling", "has_img_google": true},
             {"name": "HEAVY BLACK HEART", "unified": "2764-FE0F", "non_qualified": "2764", "image": "2764-fe0f.png",
              "short_names": ["heart"], "category": "Smileys & Emotion", "subcategory": "heart", "has_img_google": true},
             {"name": "HASH KEY", "unified": "0023-FE0F-20E3", "non_qualified": "0023-20E3", "image": "0023-fe0f-20e3.png",
              "short_names": ["hash"], "category": "Symbols", "subcategory": "keycap", "has_img_google": true},
             {"name": "WOMAN RUNNING", "unified": "1F3C3-200D-2640-FE0F", "image": "1f3c3-200d-2640-fe0f.png",
              "short_names": ["woman-running"], "category": "People & Body", "subcategory": "person-activity", "has_img_google": true,
              "skin_variations": {
                "1F3FD": {"unified": "1F3C3-1F3FD-200D-2640-FE0F", "image": "1f3c3-1f3fd-200d-2640-fe0f.png", "has_img_google": true}}},
             {"name": "MAN WITH TURBAN", "unified": "1F473", "obsoleted_by": "1F473-200D-2642-FE0F", "image": "1f473.png",
              "short_names": ["man_with_turban"], "category": "People & Body", "subcategory": "person-resting", "has_img_google": true}
            ]
            """;

    /** openmoji.json: tags, a toned variant, an OpenMoji extra, one without its file, one without a name. */
    static final String OPENMOJI_JSON = """
            [
             {"emoji": "x", "hexcode": "1F600", "group": "smileys-emotion", "subgroups": "face-smiling", "annotation": "grinning face",
              "tags": "face, grin, happy", "openmoji_tags": "smile, happy", "openmoji_author": "Emily Jäger", "skintone": ""},
             {"emoji": "x", "hexcode": "1F3C3-200D-2640-FE0F", "group": "people-body", "subgroups": "person-activity",
              "annotation": "woman running", "tags": "", "openmoji_tags": "", "skintone": "", "skintone_base_hexcode": "1F3C3-200D-2640-FE0F"},
             {"emoji": "x", "hexcode": "1F3C3-1F3FD-200D-2640-FE0F", "group": "people-body", "subgroups": "person-activity",
              "annotation": "woman running: medium skin tone", "tags": "", "openmoji_tags": "", "skintone": 3},
             {"emoji": "x", "hexcode": "E000", "group": "extras-openmoji", "subgroups": "animals-nature", "annotation": "goldfish",
              "tags": "", "openmoji_tags": "goldfish, fish, water", "openmoji_author": "Kai Magnus Müller", "skintone": ""},
             {"emoji": "x", "hexcode": "2764-FE0F", "group": "smileys-emotion", "subgroups": "heart", "annotation": "red heart",
              "tags": "heart", "openmoji_tags": "", "skintone": ""},
             {"emoji": "x", "hexcode": "1FA70-1F3FB", "group": "people-body", "subgroups": "person-activity",
              "annotation": "ballet dancer: light skin tone", "tags": "", "openmoji_tags": "", "skintone": 1, "skintone_base_hexcode": "1FA70"},
             {"emoji": "x", "hexcode": "E001", "group": "extras-openmoji", "subgroups": "x", "annotation": "", "tags": "", "openmoji_tags": "", "skintone": ""}
            ]
            """;

    static EmojiNames names() {
        return EmojiNames.of(EMOJI_JSON.getBytes(StandardCharsets.UTF_8), OPENMOJI_JSON.getBytes(StandardCharsets.UTF_8));
    }

    private static Map<String, EmojiCorpusIndex.Entry> byId(EmojiCorpusIndex.VendorIndex index) {
        return index.items().stream().collect(Collectors.toMap(EmojiCorpusIndex.Entry::id, e -> e));
    }

    @Test
    void codePointsMatchWithAndWithoutVariationSelectorsAndLeadingZeros() {
        EmojiNames names = names();

        assertEquals("HEAVY BLACK HEART", names.byCode("2764").orElseThrow().name());
        assertEquals("HEAVY BLACK HEART", names.byCode("2764-FE0F").orElseThrow().name());
        assertEquals("HASH KEY", names.byCode("23-20e3").orElseThrow().name());
        assertEquals("1F3FD", names.byCode("1f3c3-1f3fd-200d-2640-fe0f").orElseThrow().toneKey());
        assertEquals(Optional.empty(), names.byCode("1f1e6"));
        assertEquals("GRINNING FACE", names.byName("grinning-face").orElseThrow().path("name").asText());
        assertEquals("HEAVY BLACK HEART", names.byName("red heart").orElseThrow().path("name").asText(), "OpenMoji's CLDR name");
    }

    @Test
    void twemojiFilesAreNamedByCodePointsAndTakeEmojiJsonsCaptions() {
        List<String> files = List.of("1f600.svg", "2764.svg", "23-20e3.svg", "1f3c3-1f3fd-200d-2640-fe0f.svg", "1f1e6.svg", "1f473.svg");

        EmojiCorpusIndex.VendorIndex index = EmojiCorpusIndex.fromTwemoji(EmojiVendor.TWEMOJI, files, "twemoji-svg/package", names());

        Map<String, EmojiCorpusIndex.Entry> items = byId(index);
        assertEquals(5, items.size(), items.keySet().toString());
        assertEquals(Map.of("UNKNOWN_EMOJI", 1L), index.skippedCounts());
        assertEquals("emoji-twemoji/1f1e6", index.skipped().get(0).id());
        EmojiCorpusIndex.Entry heart = items.get("emoji-twemoji/2764");
        assertEquals("twemoji-svg/package/2764.svg", heart.file());
        assertEquals("emoji/2764-fe0f", heart.splitKey(), "the PNG sets' key for the same emoji");
        assertEquals(List.of("heavy black heart", "heart"), heart.captions());
        EmojiCorpusIndex.Entry toned = items.get("emoji-twemoji/1f3c3-1f3fd-200d-2640-fe0f");
        assertEquals(List.of("woman running: medium skin tone"), toned.captions());
        assertEquals("emoji/1f3c3-200d-2640-fe0f", toned.splitKey(), "a tone is held out with its emoji");
        assertEquals("medium skin tone", toned.metadata().get("skin_tone"));
        assertEquals("emoji/1f473-200d-2642-fe0f", items.get("emoji-twemoji/1f473").splitKey(), "an obsolete emoji keys as its successor");
        assertEquals("CC-BY-4.0", heart.metadata().get("licence"));
        assertTrue(heart.metadata().get("attribution").contains("Twitter"), heart.metadata().toString());
        assertEquals("@twemoji/svg@15.0.0", heart.metadata().get("package"));
    }

    @Test
    void fluentFilesAreNamedByNameWithToneSuffixes() {
        List<String> files = List.of("grinning-face.svg", "red-heart.svg", "woman-running-default.svg", "woman-running-medium.svg",
                "woman-running-dark.svg", "blackbird.svg", "grinning.svg");

        EmojiCorpusIndex.VendorIndex index = EmojiCorpusIndex.fromFluent(EmojiVendor.FLUENT, files, "fluentui-emoji/package/icons/modern", names());

        Map<String, EmojiCorpusIndex.Entry> items = byId(index);
        assertEquals(List.of("emoji-fluent/grinning-face", "emoji-fluent/red-heart", "emoji-fluent/woman-running-default",
                "emoji-fluent/woman-running-medium"), index.items().stream().map(EmojiCorpusIndex.Entry::id).sorted().toList());
        assertEquals(List.of("heavy black heart", "heart", "red heart"), items.get("emoji-fluent/red-heart").captions(),
                "emoji.json's captions, then Fluent's own name");
        EmojiCorpusIndex.Entry medium = items.get("emoji-fluent/woman-running-medium");
        assertEquals("1F3C3-1F3FD-200D-2640-FE0F", medium.metadata().get("unified"));
        assertEquals(List.of("woman running: medium skin tone"), medium.captions());
        assertEquals("emoji/1f3c3-200d-2640-fe0f", medium.splitKey());
        assertEquals("1F3C3-200D-2640-FE0F", items.get("emoji-fluent/woman-running-default").metadata().get("unified"));
        Map<String, String> reasons = index.skipped().stream().collect(Collectors.toMap(EmojiCorpusIndex.Skip::id, EmojiCorpusIndex.Skip::reason));
        assertEquals(Map.of("emoji-fluent/woman-running-dark", "UNKNOWN_EMOJI", "emoji-fluent/blackbird", "UNKNOWN_EMOJI",
                "emoji-fluent/grinning", "DUPLICATE"), reasons, "no dark variation; no such emoji; a second drawing of 1F600");
        assertEquals("MIT", medium.metadata().get("licence"));
        assertTrue(medium.metadata().get("attribution").contains("Microsoft"));
    }

    @Test
    void openMojiKeepsItsNamesAndTagsAndItsExtras() {
        List<String> files = List.of("1F600.svg", "1F3C3-1F3FD-200D-2640-FE0F.svg", "E000.svg", "E001.svg", "1FA70-1F3FB.svg");

        EmojiCorpusIndex.VendorIndex index = EmojiCorpusIndex.fromOpenMoji(EmojiVendor.OPENMOJI,
                OPENMOJI_JSON.getBytes(StandardCharsets.UTF_8), files, "openmoji/package/color/svg", names());

        Map<String, EmojiCorpusIndex.Entry> items = byId(index);
        assertEquals(List.of("emoji-openmoji/1f3c3-1f3fd-200d-2640-fe0f", "emoji-openmoji/1f600", "emoji-openmoji/1fa70-1f3fb",
                "emoji-openmoji/e000"),
                items.keySet().stream().sorted().toList());
        EmojiCorpusIndex.Entry grin = items.get("emoji-openmoji/1f600");
        assertEquals(List.of("grinning face", "grinning", "grinning face, face, grin, happy, smile"), grin.captions());
        assertEquals("openmoji/package/color/svg/1F600.svg", grin.file());
        assertEquals("emoji/1f600", grin.splitKey());
        assertEquals("face, grin, happy, smile", grin.metadata().get("tags"));
        assertEquals("Emily Jäger", grin.metadata().get("author"));
        assertEquals("CC-BY-SA-4.0", grin.metadata().get("licence"));
        EmojiCorpusIndex.Entry fish = items.get("emoji-openmoji/e000");
        assertEquals(List.of("goldfish", "goldfish, fish, water"), fish.captions());
        assertEquals("openmoji/e000", fish.splitKey(), "an extra no other vendor draws keys by its own code");
        assertEquals("extras-openmoji", fish.metadata().get("category"));
        assertEquals(List.of("woman running: medium skin tone"), items.get("emoji-openmoji/1f3c3-1f3fd-200d-2640-fe0f").captions());
        assertEquals("openmoji/1fa70", items.get("emoji-openmoji/1fa70-1f3fb").splitKey(),
                "a tone emoji.json does not know keys as its base emoji, like every tone");
        assertEquals(Map.of("MISSING_FILE", 2L, "EMPTY_CAPTION", 1L), index.skippedCounts()); // no 1F3C3-200D-2640-FE0F.svg, no 2764-FE0F.svg
    }

    @Test
    void anIndexIsReadBackAndOneOfAnotherPackageVersionIsNotCurrent() {
        EmojiCorpusIndex.VendorIndex index = EmojiCorpusIndex.fromTwemoji(EmojiVendor.TWEMOJI, List.of("1f600.svg"), "t", names());

        EmojiCorpusIndex.write(dir, index);

        assertEquals(Optional.of(index), EmojiCorpusIndex.read(dir, EmojiVendor.TWEMOJI));
        EmojiCorpusIndex.write(dir, new EmojiCorpusIndex.VendorIndex(index.format(), "twemoji", "@twemoji/svg@14.0.0",
                index.licence(), index.attribution(), true, 256, "svg", index.items(), Map.of(), List.of()));
        assertEquals(Optional.empty(), EmojiCorpusIndex.read(dir, EmojiVendor.TWEMOJI));
    }
}
