package dalle2.registry;

import dalle2.json.Json;
import dalle2.kafka.Topics;
import dalle2.messages.ModelLineage;
import dalle2.messages.ModelManifest.StoredFile;
import dalle2.messages.ModelManifest;
import dalle2.messages.ModelPin;
import dalle2.messages.ModelVersion;
import dalle2.storage.ObjectStore;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Publishes model versions to object storage and announces them (and pins) on the compacted {@value Topics#MODELS}
 * topic; fetches a version into a local folder, verifying every file.
 *
 * <p>A version lives under {@code models/<role>/<version>/}: its files, then {@value #MANIFEST} last, so a
 * readable manifest names a complete version. Versions are content-addressed ({@link ModelVersion}) and
 * immutable: publishing the same model files again returns the version already there and uploads nothing.
 */
public final class ModelRegistry {

    public static final String PREFIX = "models/";
    public static final String MANIFEST = "manifest.json";
    private static final long SEND_TIMEOUT_SECONDS = 30;

    private final ObjectStore store;
    private final Producer<String, byte[]> producer;

    /** What a publisher knows about a model beyond its files. */
    public record PublishInfo(String clipVersion, String baseVersion, String trainingId,
                              Map<String, Double> evaluation) {
        public static PublishInfo upload(String clipVersion) {
            return new PublishInfo(clipVersion, null, null, Map.of());
        }
    }

    public ModelRegistry(ObjectStore store, Producer<String, byte[]> producer) {
        this.store = store;
        this.producer = producer;
    }

    public static String versionPrefix(String role, String version) {
        return PREFIX + role + "/" + version + "/";
    }

    /** The record key of a version's announcement. */
    public static String versionKey(String role, String version) {
        return "version/" + role + "/" + version;
    }

    /** The record key of a role's pin. */
    public static String pinKey(String role) {
        return "pin/" + role;
    }

    /**
     * Publishes the model in {@code modelDir} as a version of {@code role}: its model files, its documents
     * ({@code *.md}, {@code *.png}) and, when {@code info} names a CLIP or a base version, a lineage file written
     * from it, which becomes part of the version. A prior or a decoder must name the CLIP it was trained against.
     */
    public ModelManifest publish(String role, Path modelDir, PublishInfo info) {
        ModelManifest.requireRole(role);
        boolean worksInClipSpace = role.equals("prior") || role.equals("decoder");
        if (worksInClipSpace && info.clipVersion() == null) {
            throw new IllegalArgumentException("a " + role + " version must name the CLIP it was trained against");
        }
        if (!worksInClipSpace && info.clipVersion() != null) {
            throw new IllegalArgumentException("a " + role + " model does not work in a CLIP space; got clip "
                    + info.clipVersion());
        }
        ModelLineage lineage = new ModelLineage(info.clipVersion(), info.baseVersion());
        byte[] lineageJson = lineage.json();
        SortedMap<String, Path> stored = storedFiles(modelDir);
        SortedMap<String, String> modelDigests = new TreeMap<>();
        Map<String, StoredFile> files = new LinkedHashMap<>();
        for (Map.Entry<String, Path> file : stored.entrySet()) {
            String sha = ModelVersion.sha256Hex(file.getValue());
            files.put(file.getKey(), new StoredFile(sha, size(file.getValue())));
            if (ModelVersion.isModelFile(file.getKey())) {
                modelDigests.put(file.getKey(), sha);
            }
        }
        // a model made from nothing else (a CLIP, an upsampler trained from scratch) has no lineage file, so its
        // version is the one its folder already has
        boolean hasLineage = lineage.clipVersion() != null || lineage.baseVersion() != null;
        if (hasLineage) {
            String lineageSha = ModelVersion.sha256Hex(lineageJson);
            files.put(ModelLineage.FILE, new StoredFile(lineageSha, lineageJson.length));
            modelDigests.put(ModelLineage.FILE, lineageSha);
        }
        String version = ModelVersion.of(role, modelDigests);

        Optional<ModelManifest> existing = manifest(role, version);
        if (existing.isPresent()) {
            announce(versionKey(role, version), Json.writeBytes(existing.get()));
            return existing.get();
        }
        String prefix = versionPrefix(role, version);
        for (Map.Entry<String, Path> file : stored.entrySet()) {
            store.put(prefix + file.getKey(), read(file.getValue()), contentType(file.getKey()));
        }
        if (hasLineage) {
            store.put(prefix + ModelLineage.FILE, lineageJson, "application/json");
        }
        ModelManifest manifest = new ModelManifest(null, role, version, Instant.now().toString(), files, lineage,
                info.trainingId(), info.evaluation());
        byte[] manifestJson = Json.writeBytes(manifest);
        store.put(prefix + MANIFEST, manifestJson, "application/json");
        announce(versionKey(role, version), manifestJson);
        return manifest;
    }

    /** Sets which version a pool runs (see {@link ModelPin}); refuses a version that was never published. */
    public void pin(ModelPin pin) {
        for (String version : new String[] {pin.stable(), pin.canary()}) {
            if (version != null && !version.equals(ModelPin.LATEST) && manifest(pin.role(), version).isEmpty()) {
                throw new IllegalArgumentException("no published " + pin.role() + " version " + version);
            }
        }
        announce(pinKey(pin.role()), Json.writeBytes(pin));
    }

    /** The manifest of a published version, or empty when there is none. */
    public Optional<ModelManifest> manifest(String role, String version) {
        Optional<InputStream> in = store.get(versionPrefix(role, version) + MANIFEST);
        if (in.isEmpty()) {
            return Optional.empty();
        }
        try (InputStream stream = in.get()) {
            return Optional.of(Json.read(stream.readAllBytes(), ModelManifest.class));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the manifest of " + version, e);
        }
    }

    /**
     * The version's folder under {@code cacheRoot} ({@code <role>/<version>/}), downloaded and verified if it is
     * not there yet. A download goes to a temporary folder first and is moved in whole, so a folder in the cache
     * is always complete; a file whose digest differs from the manifest's fails the fetch.
     */
    public Path fetch(ModelManifest manifest, Path cacheRoot) {
        Path target = cacheRoot.resolve(manifest.role()).resolve(manifest.version());
        if (Files.isDirectory(target) && ModelVersion.of(manifest.role(), target).equals(manifest.version())) {
            return target;
        }
        try {
            Files.createDirectories(target.getParent());
            Path partial = Files.createTempDirectory(target.getParent(), ".fetch-" + manifest.version() + "-");
            String prefix = versionPrefix(manifest.role(), manifest.version());
            for (Map.Entry<String, StoredFile> file : manifest.files().entrySet()) {
                Path local = partial.resolve(file.getKey());
                try (InputStream in = store.get(prefix + file.getKey()).orElseThrow(() -> new IOException(
                        "object " + prefix + file.getKey() + " listed in the manifest is missing"))) {
                    Files.copy(in, local);
                }
                String sha = ModelVersion.sha256Hex(local);
                if (!sha.equals(file.getValue().sha256())) {
                    throw new IOException(prefix + file.getKey() + " has SHA-256 " + sha + ", the manifest says "
                            + file.getValue().sha256());
                }
            }
            String computed = ModelVersion.of(manifest.role(), partial);
            if (!computed.equals(manifest.version())) {
                throw new IOException("the files of " + manifest.version() + " make version " + computed);
            }
            deleteTree(target);
            try {
                Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(partial, target);
            }
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot fetch " + manifest.version() + ": " + e.getMessage(), e);
        }
    }

    private void announce(String key, byte[] value) {
        try {
            producer.send(new ProducerRecord<>(Topics.MODELS, key, value)).get(SEND_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted announcing " + key, e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("cannot announce " + key + " on " + Topics.MODELS + ": " + e, e);
        }
    }

    /** The files a version stores: model files and documents, not a lineage left from an earlier publish. */
    private static SortedMap<String, Path> storedFiles(Path modelDir) {
        SortedMap<String, Path> files = new TreeMap<>();
        try (Stream<Path> list = Files.list(modelDir)) {
            list.filter(Files::isRegularFile).forEach(file -> {
                String name = file.getFileName().toString();
                boolean document = name.endsWith(".md") || name.endsWith(".png");
                if ((ModelVersion.isModelFile(name) || document) && !name.equals(ModelLineage.FILE)) {
                    files.put(name, file);
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + modelDir, e);
        }
        if (!files.containsKey("weights.safetensors")) {
            throw new IllegalArgumentException("no weights.safetensors in " + modelDir);
        }
        return files;
    }

    private static String contentType(String name) {
        if (name.endsWith(".json")) {
            return "application/json";
        }
        if (name.endsWith(".png")) {
            return ObjectStore.PNG;
        }
        return name.endsWith(".md") ? "text/markdown" : "application/octet-stream";
    }

    private static byte[] read(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    private static long size(Path file) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) walk.sorted(Comparator.reverseOrder())::iterator) {
                Files.delete(p);
            }
        }
    }
}
