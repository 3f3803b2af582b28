package dalle2.data;

import java.text.Normalizer;
import java.util.Locale;
import java.util.Set;

/** Caption text rules shared by the readers: cleaning, and "a" or "an" before a noun phrase. */
public final class Captions {

    private Captions() {
    }

    /**
     * Lower case, accents removed (a small word-level tokenizer then sees "curacao" once, not two spellings),
     * typographic quotes made plain, whitespace collapsed.
     */
    public static String clean(String text) {
        if (text == null) {
            return "";
        }
        String s = Normalizer.normalize(text, Normalizer.Form.NFKD).replaceAll("\\p{M}+", "");
        s = s.replace('\u2019', '\'').replace('\u2018', '\'').replace('\u201C', '"').replace('\u201D', '"');
        return s.toLowerCase(Locale.ROOT).replaceAll("\\s+", " ").trim();
    }

    // letters whose spoken name starts with a vowel sound: "an x-ray", "an f-stop", but "a t-shirt"
    private static final String VOWEL_SOUND_LETTERS = "aefhilmnorsx";
    // words spelt with a vowel that start with a consonant sound, and silent-h words
    private static final Set<String> A_PREFIXES = Set.of("uni", "use", "usu", "uti", "ure", "uro", "eu", "ewe", "one", "once", "ubiq", "uku");
    private static final Set<String> AN_PREFIXES = Set.of("hour", "honest", "honor", "honour", "heir");

    /** "a" or "an" for the phrase that follows it, by the sound of its first word. */
    public static String article(String phrase) {
        String p = phrase.trim().toLowerCase(Locale.ROOT);
        if (p.isEmpty()) {
            throw new IllegalArgumentException("no phrase to put an article before");
        }
        String first = p.split("[\\s]+")[0];
        // a single letter spoken as a letter: "t-shirt", "x-ray", "u-turn"
        if (first.length() == 1 || (first.length() > 1 && first.charAt(1) == '-' && Character.isLetter(first.charAt(0)))) {
            char c = first.charAt(0);
            if (Character.isLetter(c)) {
                return VOWEL_SOUND_LETTERS.indexOf(c) >= 0 ? "an" : "a";
            }
        }
        if (Character.isDigit(first.charAt(0))) {
            // "an 8", "an 80", "an 11", "an 18"; "a 1", "a 100"
            return first.startsWith("8") || first.matches("1[18](\\D.*)?") ? "an" : "a";
        }
        for (String prefix : AN_PREFIXES) {
            if (first.startsWith(prefix)) {
                return "an";
            }
        }
        for (String prefix : A_PREFIXES) {
            if (first.startsWith(prefix)) {
                return "a";
            }
        }
        return "aeiou".indexOf(first.charAt(0)) >= 0 ? "an" : "a";
    }

    /** The phrase with its article: "an ankle boot", "a t-shirt". */
    public static String withArticle(String phrase) {
        return article(phrase) + " " + phrase.trim();
    }
}
