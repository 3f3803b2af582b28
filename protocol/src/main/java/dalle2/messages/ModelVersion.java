package dalle2.messages;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Names a model by its content, {@code <role>@<12 hex digits>}, so every job's status records exactly which
 * weights drew it and a published version can never change under its name.
 *
 * <p>The digest covers the model files, the ones that decide what the model computes: the weights
 * ({@code *.safetensors}) and every JSON file (config, tokenizer, {@link ModelLineage#FILE lineage}). The model
 * card and sample sheets are documents beside them: editing a card does not make another model.
 */
public final class ModelVersion {

    private static final int SHOWN_HEX_DIGITS = 12;

    private ModelVersion() {
    }

    /** The version of a model folder whose role is the folder's name ({@code trained_models/decoder}). */
    public static String of(Path modelDir) {
        return of(modelDir.toAbsolutePath().normalize().getFileName().toString(), modelDir);
    }

    /** The version of a model folder holding a model of this role. */
    public static String of(String role, Path modelDir) {
        return of(role, modelFileDigests(modelDir));
    }

    /** The version of a model of this role whose model files have these SHA-256 digests (name → hex). */
    public static String of(String role, Map<String, String> modelFileDigests) {
        if (modelFileDigests.isEmpty()) {
            throw new IllegalArgumentException("a " + role + " model needs at least one model file");
        }
        MessageDigest digest = sha256();
        new TreeMap<>(modelFileDigests).forEach((name, hex) ->
                digest.update((name + "\t" + hex + "\n").getBytes(StandardCharsets.UTF_8)));
        return role + "@" + HexFormat.of().formatHex(digest.digest()).substring(0, SHOWN_HEX_DIGITS);
    }

    /** Whether a file of a model folder is part of what the model computes (see the class comment). */
    public static boolean isModelFile(String fileName) {
        return fileName.endsWith(".safetensors") || fileName.endsWith(".json");
    }

    /** The SHA-256 (hex) of each model file directly in the folder, by file name. */
    public static SortedMap<String, String> modelFileDigests(Path modelDir) {
        SortedMap<String, String> digests = new TreeMap<>();
        try (Stream<Path> files = Files.list(modelDir)) {
            for (Path file : (Iterable<Path>) files::iterator) {
                String name = file.getFileName().toString();
                if (Files.isRegularFile(file) && isModelFile(name)) {
                    digests.put(name, sha256Hex(file));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list the model folder " + modelDir, e);
        }
        if (!digests.containsKey("weights.safetensors")) {
            throw new UncheckedIOException(new IOException("no weights.safetensors in " + modelDir));
        }
        return digests;
    }

    /** The role of a version string: {@code decoder} of {@code decoder@3f2a…}. */
    public static String roleOf(String version) {
        int at = version.indexOf('@');
        if (at <= 0) {
            throw new IllegalArgumentException("a model version is <role>@<digest>, got '" + version + "'");
        }
        return version.substring(0, at);
    }

    /**
     * The version of {@code role} inside a stage's combined version ({@code prior@…+clip@…}: the prior stage
     * names the prior and the CLIP it embeds prompts with), or null when it names none.
     */
    public static String componentOf(String stageVersion, String role) {
        if (stageVersion == null) {
            return null;
        }
        for (String part : stageVersion.split("\\+")) {
            if (part.startsWith(role + "@")) {
                return part;
            }
        }
        return null;
    }

    public static String sha256Hex(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            return sha256Hex(in);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    public static String sha256Hex(InputStream in) throws IOException {
        MessageDigest digest = sha256();
        byte[] buffer = new byte[1 << 16];
        for (int read; (read = in.read(buffer)) > 0; ) {
            digest.update(buffer, 0, read);
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    public static String sha256Hex(byte[] bytes) {
        return HexFormat.of().formatHex(sha256().digest(bytes));
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
