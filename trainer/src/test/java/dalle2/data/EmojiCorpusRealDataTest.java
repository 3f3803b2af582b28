package dalle2.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The corpus as {@code dalle2 data fetch emoji} left it in the repository's {@code data/emoji} (or
 * DALLE2_CORPUS_DIR), skipped when it is not there. Renders only two icons per SVG vendor: the full sets are
 * {@code dalle2 data bench-svg}'s job.
 */
class EmojiCorpusRealDataTest {

    static final Path CORPUS_DIR = Path.of(System.getenv().getOrDefault("DALLE2_CORPUS_DIR", "../data/emoji"));

    @Test
    void theFetchedDefaultVendorsOpenWithLicencesSplitsAndRenders() throws IOException {
        boolean fetched = EmojiVendor.defaults().stream().allMatch(v -> EmojiCorpusIndex.read(CORPUS_DIR, v).isPresent());
        assumeTrue(fetched, "no emoji corpus index in " + CORPUS_DIR.toAbsolutePath().normalize()
                + " (run ./dalle2 data fetch emoji at the repository root)");

        ImageCaptionDataset corpus = EmojiCorpus.open(CORPUS_DIR, EmojiVendor.defaults(), 0, DatasetOptions.of(32));

        Map<String, Integer> counts = corpus.countsBySource();
        System.out.println("emoji corpus: " + counts + ", " + corpus.captionCount() + " captions, " + corpus.report().summary());
        for (EmojiVendor v : EmojiVendor.defaults()) {
            assertTrue(counts.getOrDefault(v.source(), 0) > 2500, v.id() + ": " + counts);
        }
        for (ImageCaptionItem item : corpus.items()) {
            assertFalse(item.metadata().getOrDefault("licence", "").isBlank(), item.id());
            assertFalse(item.metadata().getOrDefault("attribution", "").isBlank(), item.id());
        }

        HeldOutSplit split = HeldOutSplit.DEFAULT;
        Set<String> train = corpus.heldIn(split).items().stream().map(ImageCaptionItem::id).collect(Collectors.toSet());
        assertTrue(corpus.heldOut(split).items().stream().noneMatch(i -> train.contains(i.id())));
        assertTrue(corpus.heldIn(split).items().stream().noneMatch(i -> i.source().equals("emoji-openmoji") || split.isHeldOut(i.splitKey())));
        // the names held out of google's drawings are the ones the shipped models never saw
        if (EmojiDataset.isPresent(CORPUS_DIR, EmojiDataset.Vendor.GOOGLE)) {
            ImageCaptionDataset plain = EmojiDataset.open(CORPUS_DIR, List.of(EmojiDataset.Vendor.GOOGLE), DatasetOptions.of(32));
            assertEquals(keys(plain.heldOut(split)), keys(corpus.filter("google", i -> i.source().equals("emoji-google")).heldOut(split)));
        }

        for (EmojiVendor v : EmojiVendor.defaults()) {
            List<ImageCaptionItem> items = corpus.items().stream().filter(i -> i.source().equals(v.source())).toList();
            Map<String, String> files = EmojiCorpusIndex.read(CORPUS_DIR, v).orElseThrow().items().stream()
                    .collect(Collectors.toMap(EmojiCorpusIndex.Entry::id, EmojiCorpusIndex.Entry::file));
            for (ImageCaptionItem item : List.of(items.get(0), items.get(items.size() / 2))) {
                Path file = CORPUS_DIR.resolve(files.get(item.id()));
                assertTrue(Files.isRegularFile(file), file.toString());
                if (v.format() == EmojiVendor.Format.SVG) {
                    byte[] svg = Files.readAllBytes(file);
                    BufferedImage a = SvgRenderer.render(svg, 256, item.id());
                    int[] pixels = a.getRGB(0, 0, 256, 256, null, 0, 256);
                    assertTrue(java.util.Arrays.stream(pixels).anyMatch(p -> (p >>> 24) == 255), item.id() + " renders blank");
                    assertArrayEquals(pixels, SvgRenderer.render(svg, 256, item.id()).getRGB(0, 0, 256, 256, null, 0, 256), item.id());
                }
                assertEquals(32, item.loadImage().orElseThrow().getWidth(), item.id());
            }
        }
    }

    private static Set<String> keys(ImageCaptionDataset d) {
        return d.items().stream().map(ImageCaptionItem::splitKey).collect(Collectors.toSet());
    }
}
