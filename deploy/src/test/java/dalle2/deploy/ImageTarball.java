package dalle2.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.zip.GZIPInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * A {@code docker save} tarball as Jib's buildTar writes it: {@code manifest.json} naming the config file and
 * the layers (gzipped tars, or plain ones in the base image).
 */
final class ImageTarball {

    /** Layers are shared between the worker images: each is listed once per test run. */
    private static final Map<String, List<String>> LAYER_FILES = new ConcurrentHashMap<>();

    private static final ObjectMapper JSON = new ObjectMapper();

    final Path file;
    final JsonNode config;
    final List<String> layers;
    /** The names {@code docker load} gives the image. */
    final List<String> tags;

    private ImageTarball(Path file, JsonNode config, List<String> layers, List<String> tags) {
        this.file = file;
        this.config = config;
        this.layers = layers;
        this.tags = tags;
    }

    static ImageTarball read(Path file) throws IOException {
        JsonNode manifest = JSON.readTree(entry(file, "manifest.json"));
        JsonNode image = manifest.get(0);
        JsonNode config = JSON.readTree(entry(file, image.get("Config").asText()));
        List<String> layers = new ArrayList<>();
        image.get("Layers").forEach(l -> layers.add(l.asText()));
        List<String> tags = new ArrayList<>();
        image.path("RepoTags").forEach(t -> tags.add(t.asText()));
        return new ImageTarball(file, config, layers, tags);
    }

    /** The container settings: Entrypoint, Cmd, Env, User, ExposedPorts, WorkingDir. */
    JsonNode container() {
        return config.get("config");
    }

    /** Every path in every layer, without a leading {@code /} or {@code ./}. */
    List<String> files() throws IOException {
        List<String> all = new ArrayList<>();
        for (String layer : layers) {
            all.addAll(LAYER_FILES.computeIfAbsent(file.getFileName() + "!" + layer.replaceAll(".*/", ""),
                    key -> listLayer(layer)));
        }
        return all;
    }

    private List<String> listLayer(String layer) {
        List<String> names = new ArrayList<>();
        try (InputStream in = layerStream(layer); TarArchiveInputStream tar = new TarArchiveInputStream(in)) {
            for (TarArchiveEntry e = tar.getNextEntry(); e != null; e = tar.getNextEntry()) {
                names.add(e.getName().replaceFirst("^\\./", "").replaceFirst("^/", ""));
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return names;
    }

    private InputStream layerStream(String layer) throws IOException {
        InputStream raw = new BufferedInputStream(entryStream(file, layer), 1 << 16);
        raw.mark(2);
        boolean gzip = raw.read() == 0x1f && raw.read() == 0x8b;
        raw.reset();
        return gzip ? new GZIPInputStream(raw, 1 << 16) : raw;
    }

    private static byte[] entry(Path tarball, String name) throws IOException {
        try (InputStream in = entryStream(tarball, name)) {
            return in.readAllBytes();
        }
    }

    /** The stream of one entry of the outer tar (closing it closes the file). */
    private static InputStream entryStream(Path tarball, String name) throws IOException {
        TarArchiveInputStream tar = new TarArchiveInputStream(new BufferedInputStream(Files.newInputStream(tarball),
                1 << 16));
        for (TarArchiveEntry e = tar.getNextEntry(); e != null; e = tar.getNextEntry()) {
            if (e.getName().replaceFirst("^\\./", "").equals(name)) {
                return tar;
            }
        }
        tar.close();
        throw new IOException(tarball + " has no entry " + name);
    }
}
