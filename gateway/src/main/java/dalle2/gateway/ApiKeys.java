package dalle2.gateway;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/**
 * The API keys a gateway accepts, held only as SHA-256 hashes: a heap dump or a log line never shows a key. Text
 * form: one key a line, optionally {@code name:key}; blank lines and lines starting with {@code #} are skipped.
 * A key is compared by its hash in constant time against every configured hash, so neither the answer's timing
 * nor an early exit tells how much of a key was right.
 */
public final class ApiKeys {

    /** Shorter keys are guessable; 16 characters of a random token are 80+ bits. */
    public static final int MIN_KEY_CHARS = 16;
    /** A bound on what the gateway hashes per request (longer presented keys are refused before hashing). */
    public static final int MAX_KEY_CHARS = 512;
    private static final String NAME_SEPARATOR = ":";
    private static final int UNNAMED_LABEL_HEX_CHARS = 8;

    private record Entry(String name, byte[] hash) {
    }

    private final List<Entry> entries;

    private ApiKeys(List<Entry> entries) {
        this.entries = List.copyOf(entries);
    }

    public static ApiKeys none() {
        return new ApiKeys(List.of());
    }

    /** Parses the text form; the error names the line, never the key. */
    public static ApiKeys parse(String text) {
        List<Entry> entries = new ArrayList<>();
        String[] lines = text.split("\\R|,");
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            int colon = line.indexOf(NAME_SEPARATOR);
            String key = colon > 0 ? line.substring(colon + 1).strip() : line;
            // an unnamed key is labelled by a prefix of its hash: stable on every instance, useless to a guesser
            String name = colon > 0 ? line.substring(0, colon).strip()
                    : "key-" + HexFormat.of().formatHex(sha256(key)).substring(0, UNNAMED_LABEL_HEX_CHARS);
            if (key.length() < MIN_KEY_CHARS || key.length() > MAX_KEY_CHARS) {
                throw new IllegalArgumentException("API key on line " + (i + 1) + " must be "
                        + MIN_KEY_CHARS + "-" + MAX_KEY_CHARS + " characters");
            }
            if (!key.chars().allMatch(c -> c > 0x20 && c < 0x7f && c != ',')) {
                throw new IllegalArgumentException("API key on line " + (i + 1)
                        + " must be printable ASCII without spaces or commas");
            }
            entries.add(new Entry(name, sha256(key)));
        }
        return new ApiKeys(entries);
    }

    public static ApiKeys fromFile(Path file) {
        try {
            return parse(Files.readString(file, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the API keys file " + file, e);
        }
    }

    /** The keys of a file and of a variable's value (either may be null). */
    public static ApiKeys of(Path file, String text) {
        List<Entry> all = new ArrayList<>();
        if (file != null) {
            all.addAll(fromFile(file).entries);
        }
        if (text != null && !text.isBlank()) {
            all.addAll(parse(text).entries);
        }
        return new ApiKeys(all);
    }

    public boolean isEmpty() {
        return entries.isEmpty();
    }

    public int size() {
        return entries.size();
    }

    /** The caller a presented key belongs to, or empty. Every configured hash is compared: no early exit. */
    public Optional<Principal> authenticate(String presented) {
        if (presented == null || presented.isEmpty() || presented.length() > MAX_KEY_CHARS) {
            return Optional.empty();
        }
        byte[] hash = sha256(presented);
        Entry match = null;
        for (Entry e : entries) {
            if (MessageDigest.isEqual(e.hash(), hash) && match == null) {
                match = e;
            }
        }
        return match == null ? Optional.empty()
                : Optional.of(new Principal(match.name(), HexFormat.of().formatHex(match.hash())));
    }

    static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java has SHA-256", e);
        }
    }

    @Override
    public String toString() {
        return "ApiKeys[" + entries.size() + " keys]";
    }
}
