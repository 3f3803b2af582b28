package dalle2.trainer.worker;

import dalle2.json.Json;
import dalle2.storage.ObjectStore;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Publishes model folders to object storage under {@code models/<role>/<version>/}, content-addressed: the version
 * is {@code <role>@<first 12 hex digits of the SHA-256 of weights.safetensors>}, the form the workers already
 * report for the weights they serve, so the same weights published twice are one version. The folder's
 * {@code manifest.json} is written last: a version without one is an interrupted upload, and is not there.
 */
public final class StoreModelPublisher implements ModelPublisher {

    public static final String PREFIX = "models/";
    public static final String MANIFEST = "manifest.json";

    /** manifest.json of a published version. */
    record Manifest(String role, String version, List<String> files, String clipVersion, String baseVersion,
                    String trainingId, Map<String, Double> evaluation, String publishedAt) {
    }

    private final ObjectStore store;

    public StoreModelPublisher(ObjectStore store) {
        this.store = store;
    }

    static String versionPrefix(String role, String version) {
        return PREFIX + role + "/" + version + "/";
    }

    @Override
    public String publish(String role, Path modelDir, PublishInfo info) throws IOException {
        String version = role + "@" + sha256(modelDir.resolve("weights.safetensors")).substring(0, 12);
        String prefix = versionPrefix(role, version);
        if (store.stat(prefix + MANIFEST).isPresent()) {
            return version;
        }
        List<String> files;
        try (Stream<Path> walk = Files.walk(modelDir)) {
            files = walk.filter(Files::isRegularFile).map(p -> modelDir.relativize(p).toString().replace('\\', '/'))
                    .sorted().toList();
        }
        for (String file : files) {
            store.put(prefix + file, Files.readAllBytes(modelDir.resolve(file)), "application/octet-stream");
        }
        Manifest manifest = new Manifest(role, version, files, info.clipVersion(), info.baseVersion(),
                info.trainingId(), info.evaluation(), Instant.now().toString());
        store.put(prefix + MANIFEST, Json.writeBytes(manifest), "application/json");
        return version;
    }

    @Override
    public Path fetch(String role, String version, Path cacheRoot) throws IOException {
        String prefix = versionPrefix(role, version);
        Optional<InputStream> manifestStream = store.get(prefix + MANIFEST);
        if (manifestStream.isEmpty()) {
            throw new IllegalArgumentException("no published " + role + " version " + version);
        }
        Manifest manifest;
        try (InputStream in = manifestStream.get()) {
            manifest = Json.read(in.readAllBytes(), Manifest.class);
        }
        Path dir = cacheRoot.resolve(role).resolve(version.replace('@', '-'));
        for (String file : manifest.files()) {
            Path target = dir.resolve(file).normalize();
            if (!target.startsWith(dir)) {
                throw new IOException("model file " + file + " would land outside " + dir);
            }
            Files.createDirectories(target.getParent());
            try (InputStream in = store.get(prefix + file)
                    .orElseThrow(() -> new IOException(version + " lacks " + file))) {
                Files.write(target, in.readAllBytes());
            }
        }
        return dir;
    }

    static String sha256(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            byte[] buffer = new byte[1 << 16];
            for (int read; (read = in.read(buffer)) > 0; ) {
                digest.update(buffer, 0, read);
            }
            return HexFormat.of().formatHex(digest.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
