package dalle2.inference;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** Names a model folder's weights by content, so every job's status records exactly which weights drew it. */
public final class ModelVersion {

    private ModelVersion() {
    }

    /** {@code <folder name>@<first 12 hex digits of the SHA-256 of weights.safetensors>}. */
    public static String of(Path modelDir) {
        Path weights = modelDir.resolve("weights.safetensors");
        try (InputStream in = Files.newInputStream(weights)) {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            byte[] buffer = new byte[1 << 16];
            for (int read; (read = in.read(buffer)) > 0; ) {
                digest.update(buffer, 0, read);
            }
            return modelDir.toAbsolutePath().normalize().getFileName() + "@"
                    + HexFormat.of().formatHex(digest.digest()).substring(0, 12);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + weights, e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
