package dalle2.data;

import com.fasterxml.jackson.databind.JsonNode;
import dalle2.json.Json;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Your own images: a folder with a {@code captions.jsonl}, one JSON object per line,
 * {@code {"image": "cats/1.png", "caption": "a cat on a mat"}} (or {@code "captions": [...]}), image paths
 * relative to the folder. Lines naming the same image add captions to one item. Images are composited on white,
 * padded to a square and resized.
 *
 * <p>Skipped and counted: unreadable JSON lines, lines without an image, empty captions, image paths that leave the
 * folder, missing files (at indexing), undecodable images (at load time).
 */
public final class CaptionsJsonlDataset {

    public static final String FILE_NAME = "captions.jsonl";

    private CaptionsJsonlDataset() {
    }

    /** @param location the folder holding {@code captions.jsonl}, or the .jsonl file itself */
    public static ImageCaptionDataset open(Path location, DatasetOptions options) {
        Path file = Files.isDirectory(location) ? location.resolve(FILE_NAME) : location;
        Path folder = file.toAbsolutePath().normalize().getParent();
        if (!Files.isRegularFile(file)) {
            throw new DatasetException("no " + FILE_NAME + " in " + location
                    + " (expected one JSON object per line: {\"image\": \"a.png\", \"caption\": \"...\"})");
        }
        String source = "jsonl-" + folder.getFileName();
        Map<String, Set<String>> captionsByImage = new LinkedHashMap<>();
        int lineNumber = 0;
        try (BufferedReader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            while ((line = reader.readLine()) != null) {
                lineNumber++;
                if (line.isBlank()) {
                    continue;
                }
                String where = file.getFileName() + ":" + lineNumber;
                JsonNode node;
                try {
                    node = Json.mapper().readTree(line);
                } catch (IOException e) {
                    options.badItem(source, where, DatasetReport.Reason.BAD_JSON, firstLine(e.getMessage()));
                    continue;
                }
                if (node == null || !node.isObject() || !node.path("image").isTextual() || node.path("image").asText().isBlank()) {
                    options.badItem(source, where, DatasetReport.Reason.BAD_JSON, "no \"image\" string");
                    continue;
                }
                String image = node.get("image").asText().trim();
                List<String> captions = new ArrayList<>();
                if (node.path("caption").isTextual()) {
                    captions.add(node.get("caption").asText());
                }
                node.path("captions").forEach(c -> captions.add(c.asText("")));
                List<String> clean = captions.stream().map(String::trim).filter(c -> !c.isEmpty()).toList();
                if (clean.isEmpty()) {
                    options.badItem(source, source + "/" + image, DatasetReport.Reason.EMPTY_CAPTION, where);
                    continue;
                }
                captionsByImage.computeIfAbsent(image, k -> new LinkedHashSet<>()).addAll(clean);
            }
        } catch (IOException e) {
            throw new DatasetException("cannot read " + file + ": " + e.getMessage(), e);
        }

        int size = options.imageSize();
        List<ImageCaptionItem> items = new ArrayList<>();
        for (Map.Entry<String, Set<String>> entry : captionsByImage.entrySet()) {
            String image = entry.getKey();
            String id = source + "/" + image;
            Path path = folder.resolve(image).normalize();
            if (!path.startsWith(folder)) {
                options.badItem(source, id, DatasetReport.Reason.BAD_PATH, image);
                continue;
            }
            if (!Files.isRegularFile(path)) {
                options.badItem(source, id, DatasetReport.Reason.MISSING_FILE, path.toString());
                continue;
            }
            Map<String, String> metadata = new LinkedHashMap<>();
            metadata.put("image", image);
            ImageSource imageSource = () -> ImagePreprocessing.toSquareRgb(ImagePreprocessing.decode(path), size);
            items.add(new ImageCaptionItem(id, source, id, List.copyOf(entry.getValue()), ImageCaptionItem.NO_LABEL,
                    metadata, new LazyImage(imageSource, source, options)));
        }
        return ImageCaptionDataset.of(source, size, items, options.report());
    }

    static String firstLine(String message) {
        if (message == null) {
            return "";
        }
        int nl = message.indexOf('\n');
        return nl < 0 ? message : message.substring(0, nl);
    }
}
