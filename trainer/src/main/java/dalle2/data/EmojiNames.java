package dalle2.data;

import com.fasterxml.jackson.databind.JsonNode;
import dalle2.json.Json;
import java.io.IOException;
import java.text.Normalizer;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The names of every emoji and skin-tone variant, from emoji-data's {@code emoji.json}, looked up by code point
 * sequence (for sets whose files are named by code points: Twemoji, OpenMoji) or by name (Fluent's files are
 * named by their CLDR name, "crying-cat"; OpenMoji's {@code openmoji.json} gives the CLDR names by code point,
 * emoji.json has the Unicode names and short names).
 *
 * <p>A match gives the same captions and split key {@link EmojiDataset} gives the PNG sets, so one emoji is one
 * name in every vendor and its held-out side never depends on who drew it.
 */
public final class EmojiNames {

    /** One emoji of emoji.json, and the skin variation a drawing shows (null: the base emoji). */
    public record Match(JsonNode emoji, String toneKey) {

        public String name() {
            return emoji.path("name").asText("");
        }

        /** The drawing's own code points: the variation's when it has a tone. */
        public String unified() {
            if (toneKey != null) {
                return emoji.path("skin_variations").path(toneKey).path("unified").asText(emoji.path("unified").asText(""));
            }
            return emoji.path("unified").asText("");
        }

        public String category() {
            return emoji.path("category").asText("");
        }

        public String subcategory() {
            return emoji.path("subcategory").asText("");
        }

        /** What {@link HeldOutSplit} hashes, as {@link EmojiDataset} computes it. */
        public String splitKey() {
            return EmojiDataset.splitKey(emoji);
        }

        public List<String> captions() {
            List<String> shortNames = new java.util.ArrayList<>();
            emoji.path("short_names").forEach(s -> shortNames.add(s.asText()));
            return EmojiDataset.captions(name(), shortNames, subcategory(), toneKey);
        }

        public String tonePhrase() {
            return toneKey == null ? null : EmojiDataset.tonePhrase(toneKey);
        }
    }

    private final Map<String, Match> byCode = new HashMap<>();
    private final Map<String, JsonNode> byName = new HashMap<>();

    private EmojiNames() {
    }

    /**
     * @param emojiJson     emoji.json of any emoji-datasource package
     * @param openmojiJson  openmoji.json for the CLDR names, or null
     */
    public static EmojiNames of(byte[] emojiJson, byte[] openmojiJson) {
        EmojiNames names = new EmojiNames();
        JsonNode root = readArray(emojiJson, "emoji.json");
        for (JsonNode e : root) {
            names.addCode(e.path("unified").asText(""), new Match(e, null));
            names.addCode(e.path("non_qualified").asText(""), new Match(e, null));
            for (Iterator<Map.Entry<String, JsonNode>> it = e.path("skin_variations").fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> v = it.next();
                names.addCode(v.getValue().path("unified").asText(""), new Match(e, v.getKey()));
                names.addCode(v.getValue().path("non_qualified").asText(""), new Match(e, v.getKey()));
            }
        }
        for (JsonNode e : root) { // Unicode names and short names after codes, so an earlier emoji keeps its name
            names.byName.putIfAbsent(slug(e.path("name").asText("")), e);
            e.path("short_names").forEach(s -> names.byName.putIfAbsent(slug(s.asText()), e));
        }
        if (openmojiJson != null) {
            for (JsonNode o : readArray(openmojiJson, "openmoji.json")) {
                if (!o.path("skintone").asText("").isEmpty()) {
                    continue; // "waving hand: light skin tone": the tone is the file name's suffix, not the name
                }
                Match m = names.byCode.get(normalise(o.path("hexcode").asText("")));
                if (m != null && m.toneKey() == null) {
                    names.byName.put(slug(o.path("annotation").asText("")), m.emoji()); // CLDR first: Fluent uses it
                }
            }
        }
        names.byName.remove("");
        return names;
    }

    private static JsonNode readArray(byte[] json, String what) {
        try {
            JsonNode root = Json.mapper().readTree(json);
            if (root == null || !root.isArray()) {
                throw new DatasetException(what + " is not a JSON array");
            }
            return root;
        } catch (IOException e) {
            throw new DatasetException("cannot read " + what + ": " + e.getMessage(), e);
        }
    }

    private void addCode(String code, Match m) {
        if (!code.isEmpty()) {
            byCode.putIfAbsent(normalise(code), m);
        }
    }

    /**
     * "1F600", "1f600", "2764-FE0F" and "2764" are one key: lower case, variation selectors dropped (Twemoji drops
     * them from its file names outside ZWJ sequences, OpenMoji keeps them).
     */
    public static String normalise(String codes) {
        StringBuilder sb = new StringBuilder();
        for (String c : codes.trim().toLowerCase(Locale.ROOT).split("[-_ ]")) {
            if (c.isEmpty() || c.equals("fe0f") || c.equals("fe0e")) {
                continue;
            }
            if (!sb.isEmpty()) {
                sb.append('-');
            }
            sb.append(c.replaceFirst("^0+(?=.)", "")); // Twemoji writes "30-20e3" for "0030-FE0F-20E3"
        }
        return sb.toString();
    }

    /** "Eight O’Clock", "eight-oclock" and "eight_o'clock" -> "eight-oclock". */
    public static String slug(String name) {
        String s = Normalizer.normalize(name, Normalizer.Form.NFKD).replaceAll("\\p{M}+", "");
        s = s.toLowerCase(Locale.ROOT).replace("'", "").replace("\u2019", "");
        return s.replaceAll("[^a-z0-9]+", "-").replaceAll("^-+|-+$", "");
    }

    public Optional<Match> byCode(String codes) {
        return Optional.ofNullable(byCode.get(normalise(codes)));
    }

    /** The base emoji of that name (Unicode name, short name or CLDR name), in any spelling {@link #slug} unifies. */
    public Optional<JsonNode> byName(String name) {
        return Optional.ofNullable(byName.get(slug(name)));
    }

    public int size() {
        return byCode.size();
    }
}
