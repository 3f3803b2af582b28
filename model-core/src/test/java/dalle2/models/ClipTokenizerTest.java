package dalle2.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.Proxy;
import java.net.ProxySelector;
import java.net.SocketAddress;
import java.net.URI;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ClipTokenizerTest {

    private static final List<String> CAPTIONS = List.of(
            "grinning face", "Grinning Face with big eyes", "red heart", "a photo of a sneaker",
            "a photo of a bag", "woman's hat", "flag: United States", "red apple");

    @TempDir
    Path dir;

    @Test
    void aVocabularyWrittenFromCaptionsLowerCasesAndMapsUnknownWordsToUnk() throws IOException {
        Path file = dir.resolve("tokenizer.json");
        ClipTokenizer.writeWordLevel(CAPTIONS, 1, file);
        try (ClipTokenizer tokenizer = ClipTokenizer.load(file, 8)) {
            assertEquals(List.of("[BOS]", "grinning", "face", "[EOS]", "[PAD]", "[PAD]", "[PAD]", "[PAD]"),
                    tokenizer.tokens("GRINNING Face"));
            assertEquals(List.of("[BOS]", "red", "[UNK]", "[EOS]", "[PAD]", "[PAD]", "[PAD]", "[PAD]"),
                    tokenizer.tokens("red banana"));
            assertEquals(List.of("[BOS]", "woman", "'", "s", "hat", "[EOS]", "[PAD]", "[PAD]"),
                    tokenizer.tokens("woman's hat"));
            ClipTokenizer.Tokens tokens = tokenizer.encode(List.of("red heart", "flag: united states"));
            assertArrayEquals(new int[] {3, 5}, tokens.eosIndex());
            assertArrayEquals(new long[] {2, tokens.ids()[0][1], tokens.ids()[0][2], 3, 0, 0, 0, 0}, tokens.ids()[0]);
        }
    }

    @Test
    void everyTrainingWordGetsItsOwnIdAndRareWordsBecomeUnk() throws IOException {
        Path file = dir.resolve("tokenizer.json");
        ClipTokenizer.writeWordLevel(CAPTIONS, 2, file);
        try (ClipTokenizer tokenizer = ClipTokenizer.load(file, 8)) {
            // seen twice or more: a, photo, of, grinning, face, red; plus 4 special tokens
            assertEquals(10, tokenizer.vocabSize());
            assertEquals(List.of("[BOS]", "red", "[UNK]", "[EOS]", "[PAD]", "[PAD]", "[PAD]", "[PAD]"),
                    tokenizer.tokens("red heart"));
        }
        ClipTokenizer.writeWordLevel(CAPTIONS, 1, file);
        try (ClipTokenizer tokenizer = ClipTokenizer.load(file, 16)) {
            for (String caption : CAPTIONS) {
                assertTrue(!tokenizer.tokens(caption).contains("[UNK]"), caption + " -> " + tokenizer.tokens(caption));
            }
            long[][] ids = tokenizer.encode(List.of("grinning", "face")).ids();
            assertNotEquals(ids[0][1], ids[1][1]);
        }
    }

    @Test
    void longCaptionsAreTruncatedKeepingEosLast() throws IOException {
        Path file = dir.resolve("tokenizer.json");
        ClipTokenizer.writeWordLevel(CAPTIONS, 1, file);
        try (ClipTokenizer tokenizer = ClipTokenizer.load(file, 5)) {
            ClipTokenizer.Tokens tokens = tokenizer.encode(List.of("grinning face with big eyes", "red"));
            assertEquals(List.of("[BOS]", "grinning", "face", "with", "[EOS]"),
                    tokenizer.tokens("grinning face with big eyes"));
            assertEquals(5, tokens.ids()[0].length);
            assertEquals(5, tokens.ids()[1].length);
            assertArrayEquals(new int[] {4, 2}, tokens.eosIndex());
            assertEquals(3, tokens.ids()[0][4]);
        }
    }

    @Test
    void loadingAndEncodingOpenNoNetworkConnection() throws IOException {
        Path file = dir.resolve("tokenizer.json");
        ClipTokenizer.writeWordLevel(CAPTIONS, 1, file);
        List<URI> attempts = Collections.synchronizedList(new ArrayList<>());
        ProxySelector previous = ProxySelector.getDefault();
        ProxySelector.setDefault(new ProxySelector() {
            @Override
            public List<Proxy> select(URI uri) {
                attempts.add(uri);
                return List.of(Proxy.NO_PROXY);
            }

            @Override
            public void connectFailed(URI uri, SocketAddress address, IOException e) {
            }
        });
        try (ClipTokenizer tokenizer = ClipTokenizer.load(file, 8)) {
            tokenizer.encode(CAPTIONS);
        } finally {
            ProxySelector.setDefault(previous);
        }
        assertEquals(List.of(), attempts, "the tokenizer tried to reach the network");
        assertEquals("true", System.getProperty("ai.djl.offline"));
    }

    @Test
    void aMissingTokenizerFileIsNamed() {
        Path missing = dir.resolve("nowhere/tokenizer.json");
        NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> ClipTokenizer.load(missing, 8));
        assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("tokenizer.json"), e.getMessage());
    }
}
