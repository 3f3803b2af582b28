package dalle2.trainer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.annotation.JsonProperty;
import dalle2.data.ImageCaptionDataset;
import dalle2.data.ImageCaptionItem;
import dalle2.data.LoadedItem;
import dalle2.json.Json;
import java.awt.image.BufferedImage;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Training images decoded once and held as RGB bytes (3 KB an image at 32×32), with their captions, so a
 * step never decodes a PNG. Stored as a folder: {@code corpus.json}, {@code items.jsonl} and
 * {@code images.u8} ((N, 3, S, S) uint8, row-major).
 */
public final class TrainingCorpus {

    static final String META_FILE = "corpus.json";
    static final String ITEMS_FILE = "items.jsonl";
    static final String PIXELS_FILE = "images.u8";
    public static final int CHANNELS = 3;

    /** One item's facts without its pixels. */
    public record Entry(@JsonProperty("id") String id, @JsonProperty("source") String source,
                        @JsonProperty("split_key") String splitKey, @JsonProperty("label") int label,
                        @JsonProperty("captions") List<String> captions) {
    }

    record Meta(@JsonProperty("size") int size, @JsonProperty("image_size") int imageSize,
                @JsonProperty("channels") int channels, @JsonProperty("counts") Map<String, Integer> counts) {
    }

    private final int imageSize;
    private final List<Entry> entries;
    private final byte[] pixels;

    TrainingCorpus(int imageSize, List<Entry> entries, byte[] pixels) {
        long expected = (long) entries.size() * CHANNELS * imageSize * imageSize;
        if (pixels.length != expected) {
            throw new IllegalArgumentException("pixel data holds " + pixels.length + " bytes, expected " + expected);
        }
        this.imageSize = imageSize;
        this.entries = List.copyOf(entries);
        this.pixels = pixels;
    }

    /** Decodes every readable image of the dataset (bad ones are skipped and counted by its report). */
    public static TrainingCorpus of(ImageCaptionDataset dataset) {
        List<LoadedItem> loaded = dataset.loadAll();
        int size = dataset.imageSize();
        int plane = size * size;
        byte[] pixels = new byte[loaded.size() * CHANNELS * plane];
        List<Entry> entries = new ArrayList<>(loaded.size());
        for (int i = 0; i < loaded.size(); i++) {
            ImageCaptionItem item = loaded.get(i).item();
            BufferedImage image = loaded.get(i).image();
            int offset = i * CHANNELS * plane;
            for (int y = 0; y < size; y++) {
                for (int x = 0; x < size; x++) {
                    int rgb = image.getRGB(x, y);
                    int p = y * size + x;
                    pixels[offset + p] = (byte) (rgb >> 16);
                    pixels[offset + plane + p] = (byte) (rgb >> 8);
                    pixels[offset + 2 * plane + p] = (byte) rgb;
                }
            }
            entries.add(new Entry(item.id(), item.source(), item.splitKey(), item.label(), item.captions()));
        }
        return new TrainingCorpus(size, entries, pixels);
    }

    public int size() {
        return entries.size();
    }

    public int imageSize() {
        return imageSize;
    }

    public Entry entry(int index) {
        return entries.get(index);
    }

    public List<Entry> entries() {
        return entries;
    }

    /** Items per source, in first-seen order. */
    public Map<String, Integer> counts() {
        Map<String, Integer> counts = new LinkedHashMap<>();
        for (Entry entry : entries) {
            counts.merge(entry.source(), 1, Integer::sum);
        }
        return counts;
    }

    /**
     * The corpus indices a trainer's epoch runs over: every item once, and items whose source starts with a
     * key of {@code repeats} that many times (balances 7.5k emoji against 60k Fashion-MNIST images).
     */
    public int[] sampleTable(Map<String, Integer> repeats) {
        List<Integer> table = new ArrayList<>();
        for (int i = 0; i < entries.size(); i++) {
            int times = 1;
            for (Map.Entry<String, Integer> repeat : repeats.entrySet()) {
                if (entries.get(i).source().startsWith(repeat.getKey())) {
                    times = repeat.getValue();
                }
            }
            for (int k = 0; k < times; k++) {
                table.add(i);
            }
        }
        return table.stream().mapToInt(Integer::intValue).toArray();
    }

    /** The images at the given indices as (B, 3, S, S) float32 in [−1, 1]. */
    public NDArray images(NDManager manager, int[] indices) {
        int bytesPerImage = CHANNELS * imageSize * imageSize;
        ByteBuffer batch = ByteBuffer.allocateDirect(indices.length * bytesPerImage);
        for (int index : indices) {
            batch.put(pixels, index * bytesPerImage, bytesPerImage);
        }
        batch.flip();
        NDArray bytes = manager.create(batch, new Shape(indices.length, CHANNELS, imageSize, imageSize), DataType.UINT8);
        return bytes.toType(DataType.FLOAT32, false).div(127.5f).sub(1f);
    }

    /** One image as an RGB picture (for sample grids and evaluation). */
    public BufferedImage image(int index) {
        int plane = imageSize * imageSize;
        int offset = index * CHANNELS * plane;
        BufferedImage image = new BufferedImage(imageSize, imageSize, BufferedImage.TYPE_INT_RGB);
        for (int p = 0; p < plane; p++) {
            int r = pixels[offset + p] & 0xFF;
            int g = pixels[offset + plane + p] & 0xFF;
            int b = pixels[offset + 2 * plane + p] & 0xFF;
            image.setRGB(p % imageSize, p / imageSize, (r << 16) | (g << 8) | b);
        }
        return image;
    }

    public void save(Path dir) throws IOException {
        Files.createDirectories(dir);
        Files.write(dir.resolve(PIXELS_FILE), pixels);
        try (BufferedWriter out = Files.newBufferedWriter(dir.resolve(ITEMS_FILE), StandardCharsets.UTF_8)) {
            for (Entry entry : entries) {
                out.write(Json.write(entry));
                out.newLine();
            }
        }
        Json.writeFile(dir.resolve(META_FILE), new Meta(size(), imageSize, CHANNELS, counts()));
    }

    public static TrainingCorpus load(Path dir) throws IOException {
        Path metaFile = dir.resolve(META_FILE);
        if (!Files.isRegularFile(metaFile)) {
            throw new IOException("no training corpus in " + dir + " (missing " + META_FILE + ")");
        }
        Meta meta = Json.readFile(metaFile, Meta.class);
        List<Entry> entries = new ArrayList<>(meta.size());
        for (String line : Files.readAllLines(dir.resolve(ITEMS_FILE), StandardCharsets.UTF_8)) {
            if (!line.isBlank()) {
                entries.add(Json.read(line, Entry.class));
            }
        }
        if (entries.size() != meta.size()) {
            throw new IOException(dir.resolve(ITEMS_FILE) + " has " + entries.size() + " items, corpus.json says " + meta.size());
        }
        return new TrainingCorpus(meta.imageSize(), entries, Files.readAllBytes(dir.resolve(PIXELS_FILE)));
    }
}
