package dalle2.models;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dalle2.djl.DjlRuntime;
import dalle2.json.Json;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * CLIP's tokenizer: a HuggingFace {@code tokenizer.json} run by DJL's binding of the Rust tokenizers library.
 *
 * <p>The project's own vocabulary is a WordLevel model (one id per lower-cased word or punctuation run) built
 * from the training captions by {@link #writeWordLevel}; any other HuggingFace tokenizer.json with the same
 * special tokens (a CLIP BPE one, say) loads through {@link #load} unchanged. Every caption becomes
 * {@code [BOS] words… [EOS] [PAD]…}, exactly {@code contextLength} ids; a longer caption is cut so that its
 * [EOS] is still the last id. The text tower reads the features at the [EOS] position, as CLIP does.
 */
public final class ClipTokenizer implements AutoCloseable {

    public static final String PAD = "[PAD]";
    public static final String UNK = "[UNK]";
    public static final String BOS = "[BOS]";
    public static final String EOS = "[EOS]";
    /** Ids of the special tokens in vocabularies written by {@link #writeWordLevel}. */
    public static final List<String> SPECIAL = List.of(PAD, UNK, BOS, EOS);

    /**
     * The HuggingFace "Whitespace" pre-tokenizer's pattern ({@code \w+|[^\w\s]+}, Unicode-aware), used to count
     * words exactly as the tokenizer will split them.
     */
    private static final Pattern WORDS = Pattern.compile("\\w+|[^\\w\\s]+", Pattern.UNICODE_CHARACTER_CLASS);

    /**
     * Token ids of a batch of captions.
     *
     * @param ids      (N, contextLength) token ids, right-padded with [PAD]
     * @param eosIndex per caption, the position of its [EOS] token (= number of real tokens − 1)
     */
    public record Tokens(long[][] ids, int[] eosIndex) {
        public int size() {
            return ids.length;
        }
    }

    private final HuggingFaceTokenizer tokenizer;
    private final int contextLength;
    private final int vocabSize;
    private final long eosId;
    private final Path file;

    private ClipTokenizer(HuggingFaceTokenizer tokenizer, int contextLength, int vocabSize, long eosId, Path file) {
        this.tokenizer = tokenizer;
        this.contextLength = contextLength;
        this.vocabSize = vocabSize;
        this.eosId = eosId;
        this.file = file;
    }

    /**
     * Builds a WordLevel vocabulary from training captions and writes it as a HuggingFace tokenizer.json:
     * Lowercase normaliser, Whitespace pre-tokenizer (words and punctuation runs), [BOS] $A [EOS] template,
     * [PAD] padding, [UNK] for words seen fewer than {@code minCount} times. Ids: [PAD] 0, [UNK] 1, [BOS] 2,
     * [EOS] 3, then words by descending count (ties alphabetically), so the file is reproducible.
     */
    public static void writeWordLevel(Collection<String> captions, int minCount, Path file) throws IOException {
        if (minCount < 1) {
            throw new IllegalArgumentException("minCount must be >= 1, got " + minCount);
        }
        Map<String, Integer> counts = new HashMap<>();
        for (String caption : captions) {
            for (String word : words(caption)) {
                counts.merge(word, 1, Integer::sum);
            }
        }
        List<Map.Entry<String, Integer>> kept = new ArrayList<>();
        for (Map.Entry<String, Integer> entry : counts.entrySet()) {
            if (entry.getValue() >= minCount && !SPECIAL.contains(entry.getKey())) {
                kept.add(entry);
            }
        }
        kept.sort(Map.Entry.<String, Integer>comparingByValue().reversed().thenComparing(Map.Entry.comparingByKey()));

        JsonNodeFactory f = JsonNodeFactory.instance;
        ObjectNode vocab = f.objectNode();
        for (int id = 0; id < SPECIAL.size(); id++) {
            vocab.put(SPECIAL.get(id), id);
        }
        for (Map.Entry<String, Integer> entry : kept) {
            vocab.put(entry.getKey(), vocab.size());
        }

        ObjectNode root = f.objectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        ObjectNode padding = root.putObject("padding");
        padding.put("strategy", "BatchLongest");
        padding.put("direction", "Right");
        padding.putNull("pad_to_multiple_of");
        padding.put("pad_id", SPECIAL.indexOf(PAD));
        padding.put("pad_type_id", 0);
        padding.put("pad_token", PAD);
        ArrayNode added = root.putArray("added_tokens");
        for (int id = 0; id < SPECIAL.size(); id++) {
            ObjectNode token = added.addObject();
            token.put("id", id);
            token.put("content", SPECIAL.get(id));
            token.put("single_word", false);
            token.put("lstrip", false);
            token.put("rstrip", false);
            token.put("normalized", false);
            token.put("special", true);
        }
        root.putObject("normalizer").put("type", "Lowercase");
        root.putObject("pre_tokenizer").put("type", "Whitespace");
        ObjectNode post = root.putObject("post_processor");
        post.put("type", "TemplateProcessing");
        ArrayNode single = post.putArray("single");
        single.add(special(f, BOS, 0));
        single.add(sequence(f, "A", 0));
        single.add(special(f, EOS, 0));
        ArrayNode pair = post.putArray("pair");
        pair.add(special(f, BOS, 0));
        pair.add(sequence(f, "A", 0));
        pair.add(special(f, EOS, 0));
        pair.add(sequence(f, "B", 1));
        pair.add(special(f, EOS, 1));
        ObjectNode specialTokens = post.putObject("special_tokens");
        for (String token : List.of(BOS, EOS)) {
            ObjectNode entry = specialTokens.putObject(token);
            entry.put("id", token);
            entry.putArray("ids").add(SPECIAL.indexOf(token));
            entry.putArray("tokens").add(token);
        }
        root.putNull("decoder");
        ObjectNode model = root.putObject("model");
        model.put("type", "WordLevel");
        model.set("vocab", vocab);
        model.put("unk_token", UNK);

        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        Files.write(file, Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsBytes(root));
    }

    /** The words of a caption as the written tokenizer splits them: lower-cased words and punctuation runs. */
    static List<String> words(String caption) {
        List<String> words = new ArrayList<>();
        Matcher matcher = WORDS.matcher(caption.toLowerCase(Locale.ROOT));
        while (matcher.find()) {
            words.add(matcher.group());
        }
        return words;
    }

    /**
     * Loads a tokenizer.json that pads and truncates every caption to {@code contextLength} ids. Offline: DJL
     * is configured first, since the HuggingFace tokenizer otherwise tries to reach the network.
     *
     * @throws NoSuchFileException naming the missing file
     */
    public static ClipTokenizer load(Path file, int contextLength) throws IOException {
        if (contextLength < 3) {
            throw new IllegalArgumentException("contextLength must be >= 3, got " + contextLength);
        }
        if (!Files.isRegularFile(file)) {
            throw new NoSuchFileException(file.toString(), null, "the CLIP tokenizer.json is missing");
        }
        DjlRuntime.configure();
        JsonNode root = Json.mapper().readTree(file.toFile());
        Map<String, Long> ids = vocabulary(root);
        for (String token : SPECIAL) {
            if (!ids.containsKey(token)) {
                throw new IllegalArgumentException("tokenizer " + file + " has no " + token + " token");
            }
        }
        int vocabSize = (int) (ids.values().stream().max(Comparator.naturalOrder()).orElse(0L) + 1);
        Map<String, String> options = Map.of(
                "padding", "max_length",
                "maxLength", Integer.toString(contextLength),
                "truncation", "true",
                "addSpecialTokens", "true");
        HuggingFaceTokenizer tokenizer;
        try (InputStream in = Files.newInputStream(file)) {
            tokenizer = HuggingFaceTokenizer.newInstance(in, options);
        }
        return new ClipTokenizer(tokenizer, contextLength, vocabSize, ids.get(EOS), file);
    }

    /** Token ids of the model's vocabulary and the added tokens. */
    private static Map<String, Long> vocabulary(JsonNode root) {
        Map<String, Long> ids = new HashMap<>();
        JsonNode vocab = root.path("model").path("vocab");
        vocab.fields().forEachRemaining(e -> ids.put(e.getKey(), e.getValue().asLong()));
        for (JsonNode token : root.path("added_tokens")) {
            ids.put(token.path("content").asText(), token.path("id").asLong());
        }
        return ids;
    }

    /** Tokenises a batch; every row has exactly {@link #contextLength()} ids and ends in [EOS] then [PAD]s. */
    public Tokens encode(List<String> texts) {
        long[][] ids = new long[texts.size()][];
        int[] eos = new int[texts.size()];
        Encoding[] encodings = tokenizer.batchEncode(texts);
        for (int i = 0; i < encodings.length; i++) {
            long[] row = encodings[i].getIds();
            long real = 0;
            for (long attend : encodings[i].getAttentionMask()) {
                real += attend;
            }
            int eosIndex = (int) real - 1;
            if (row.length != contextLength || eosIndex < 1 || row[eosIndex] != eosId) {
                throw new IllegalStateException("tokenizer " + file + " did not give [BOS] … [EOS] padded to "
                        + contextLength + " for \"" + texts.get(i) + "\" (check its post_processor)");
            }
            ids[i] = row;
            eos[i] = eosIndex;
        }
        return new Tokens(ids, eos);
    }

    /** The tokens a caption becomes, special tokens and padding included (for inspection and tests). */
    public List<String> tokens(String text) {
        return List.of(tokenizer.encode(text).getTokens());
    }

    public int contextLength() {
        return contextLength;
    }

    /** One more than the largest token id. */
    public int vocabSize() {
        return vocabSize;
    }

    public Path file() {
        return file;
    }

    @Override
    public void close() {
        tokenizer.close();
    }

    private static ObjectNode special(JsonNodeFactory f, String token, int typeId) {
        ObjectNode node = f.objectNode();
        ObjectNode inner = node.putObject("SpecialToken");
        inner.put("id", token);
        inner.put("type_id", typeId);
        return node;
    }

    private static ObjectNode sequence(JsonNodeFactory f, String id, int typeId) {
        ObjectNode node = f.objectNode();
        ObjectNode inner = node.putObject("Sequence");
        inner.put("id", id);
        inner.put("type_id", typeId);
        return node;
    }
}
