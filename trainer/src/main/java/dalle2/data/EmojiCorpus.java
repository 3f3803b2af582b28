package dalle2.data;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The emoji corpus of several vendors, PNG and SVG, opened from the index {@code dalle2 data fetch emoji} writes
 * ({@link EmojiCorpusIndex}). PNGs decode as {@link EmojiDataset}'s do; SVGs are drawn by {@link SvgRenderer} at
 * 256 px (or the target, if larger), composited on white and area-averaged to the dataset's size. Drawings are
 * decoded only when loaded.
 *
 * <p>Opt-in: the {@code emoji} dataset kind without options is still {@link EmojiDataset} over google and twitter,
 * what the shipped models were trained on; {@code emoji;vendors=...;resolution=...} opens this (see
 * {@link DatasetSpec}).
 */
public final class EmojiCorpus {

    private EmojiCorpus() {
    }

    /**
     * @param minResolution keep only vendors drawn at least this large (0: all); 256 keeps the vector sets
     */
    public static ImageCaptionDataset open(Path emojiDir, List<EmojiVendor> vendors, int minResolution, DatasetOptions options) {
        List<EmojiVendor> chosen = vendors.stream().filter(v -> v.resolution() >= minResolution).toList();
        if (chosen.isEmpty()) {
            throw new DatasetException("none of the emoji vendors " + EmojiVendor.ids(vendors) + " is drawn at "
                    + minResolution + " px or more");
        }
        List<ImageCaptionItem> items = new ArrayList<>();
        List<String> names = new ArrayList<>();
        int size = options.imageSize();
        for (EmojiVendor v : chosen) {
            EmojiCorpusIndex.VendorIndex index = EmojiCorpusIndex.read(emojiDir, v).orElseThrow(() -> new DatasetException(
                    "no index of emoji vendor " + v.id() + " in " + EmojiCorpusIndex.file(emojiDir, v).getParent()
                            + "; get it with: dalle2 data fetch emoji --vendors " + v.id() + " --dir " + dataDirOf(emojiDir)));
            String source = v.source();
            for (EmojiCorpusIndex.Skip skip : index.skipped()) {
                options.badItem(source, skip.id(), DatasetReport.Reason.valueOf(skip.reason()), skip.detail());
            }
            for (EmojiCorpusIndex.Entry e : index.items()) {
                Path file = emojiDir.resolve(e.file());
                ImageSource image = v.format() == EmojiVendor.Format.SVG
                        ? () -> SvgRenderer.toSquareRgb(Files.readAllBytes(file), size, e.file())
                        : () -> ImagePreprocessing.toSquareRgb(ImagePreprocessing.decode(file), size);
                items.add(new ImageCaptionItem(e.id(), source, e.splitKey(), e.captions(), ImageCaptionItem.NO_LABEL,
                        e.metadata(), new LazyImage(image, source, options)));
            }
            names.add(source);
        }
        return ImageCaptionDataset.of(String.join("+", names), size, items, options.report());
    }

    private static Path dataDirOf(Path emojiDir) {
        Path name = emojiDir.getFileName();
        return name != null && name.toString().equals("emoji") && emojiDir.getParent() != null ? emojiDir.getParent() : emojiDir;
    }
}
