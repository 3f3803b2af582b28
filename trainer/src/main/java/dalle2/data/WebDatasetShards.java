package dalle2.data;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarFile;

/**
 * WebDataset tar shards as img2dataset writes them: {@code 00000.tar}, {@code 00001.tar}, ... each holding
 * {@code <key>.jpg|png} with {@code <key>.txt} (the caption) and other files ({@code .json}) that are ignored.
 * Files group into a sample by key: the path up to the first dot of the file name, as WebDataset does.
 *
 * <p>Indexing reads the captions and remembers where each image's bytes lie in the shard; images are read from
 * that offset and decoded lazily. Samples without an image or without a caption, empty captions, unreadable
 * shards (at indexing) and undecodable images (at load time) are skipped and counted.
 */
public final class WebDatasetShards {

    public static final Set<String> IMAGE_EXTENSIONS = Set.of("jpg", "jpeg", "png", "gif", "bmp", "webp");
    public static final String CAPTION_EXTENSION = "txt";

    private WebDatasetShards() {
    }

    /** @param location a folder of {@code .tar} shards (read in name order) or one shard */
    public static ImageCaptionDataset open(Path location, DatasetOptions options) {
        List<Path> shards = shards(location);
        Path named = Files.isDirectory(location) ? location : location.toAbsolutePath().getParent();
        String source = "wds-" + (named.getFileName() == null ? "root" : named.getFileName());
        List<ImageCaptionItem> items = new ArrayList<>();
        for (Path shard : shards) {
            readShard(shard, source, options, items);
        }
        return ImageCaptionDataset.of(source, options.imageSize(), items, options.report());
    }

    static List<Path> shards(Path location) {
        if (Files.isRegularFile(location)) {
            return List.of(location);
        }
        if (!Files.isDirectory(location)) {
            throw new DatasetException("no WebDataset shards at " + location + " (a folder of .tar files or one .tar)");
        }
        List<Path> shards = new ArrayList<>();
        try (DirectoryStream<Path> found = Files.newDirectoryStream(location, "*.tar")) {
            found.forEach(shards::add);
        } catch (IOException e) {
            throw new DatasetException("cannot list " + location + ": " + e.getMessage(), e);
        }
        if (shards.isEmpty()) {
            throw new DatasetException("no .tar shards in " + location);
        }
        shards.sort(null);
        return shards;
    }

    /** What one key gathered in a shard. */
    private static final class Sample {
        TarArchiveEntry image;
        String imageExtension;
        String caption;
    }

    private static void readShard(Path shard, String source, DatasetOptions options, List<ImageCaptionItem> items) {
        String shardName = shard.getFileName().toString();
        Map<String, Sample> samples = new LinkedHashMap<>();
        try (TarFile tar = new TarFile(shard)) {
            for (TarArchiveEntry entry : tar.getEntries()) {
                if (!entry.isFile()) {
                    continue;
                }
                String path = entry.getName();
                int slash = path.lastIndexOf('/');
                String fileName = path.substring(slash + 1);
                int dot = fileName.indexOf('.');
                if (dot <= 0) {
                    continue; // no extension, or a hidden file
                }
                String key = path.substring(0, slash + 1 + dot);
                String extension = fileName.substring(dot + 1).toLowerCase(Locale.ROOT);
                if (IMAGE_EXTENSIONS.contains(extension)) {
                    Sample s = samples.computeIfAbsent(key, k -> new Sample());
                    s.image = entry;
                    s.imageExtension = extension;
                } else if (extension.equals(CAPTION_EXTENSION)) {
                    try (InputStream in = tar.getInputStream(entry)) {
                        samples.computeIfAbsent(key, k -> new Sample()).caption = new String(in.readAllBytes(), StandardCharsets.UTF_8);
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            options.badItem(source, shardName, DatasetReport.Reason.CORRUPT_ARCHIVE, String.valueOf(e.getMessage()));
            return;
        }
        int size = options.imageSize();
        for (Map.Entry<String, Sample> e : samples.entrySet()) {
            String key = e.getKey();
            Sample s = e.getValue();
            String id = source + "/" + shardName + "/" + key;
            if (s.image == null) {
                options.badItem(source, id, DatasetReport.Reason.NO_IMAGE, key + ".txt has no image beside it");
                continue;
            }
            if (s.caption == null) {
                options.badItem(source, id, DatasetReport.Reason.NO_CAPTION, key + "." + s.imageExtension + " has no .txt");
                continue;
            }
            String caption = s.caption.trim();
            if (caption.isEmpty()) {
                options.badItem(source, id, DatasetReport.Reason.EMPTY_CAPTION, key + ".txt");
                continue;
            }
            long offset = s.image.getDataOffset();
            long length = s.image.getSize();
            String what = shardName + "!/" + s.image.getName();
            ImageSource imageSource = () -> ImagePreprocessing.toSquareRgb(
                    ImagePreprocessing.decode(readRange(shard, offset, length), what), size);
            Map<String, String> metadata = new LinkedHashMap<>();
            metadata.put("shard", shardName);
            metadata.put("key", key);
            items.add(new ImageCaptionItem(id, source, id, List.of(caption), ImageCaptionItem.NO_LABEL, metadata,
                    new LazyImage(imageSource, source, options)));
        }
    }

    private static byte[] readRange(Path file, long offset, long length) throws IOException {
        if (length > Integer.MAX_VALUE - 16) {
            throw new IOException("image of " + length + " bytes is too large");
        }
        ByteBuffer buffer = ByteBuffer.allocate((int) length);
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            while (buffer.hasRemaining()) {
                if (channel.read(buffer, offset + buffer.position()) < 0) {
                    throw new IOException(file.getFileName() + " ends inside an image (truncated shard)");
                }
            }
        }
        return buffer.array();
    }
}
