package dalle2.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Reads the real emoji tarballs and Fashion-MNIST when this machine has them (skipped otherwise) and prints the
 * counts. The tarballs are where the team's first fetch left them; set DALLE2_EMOJI_DIR to look elsewhere.
 */
class RealDataTest {

    static final Path EMOJI_DIR = Path.of(System.getenv().getOrDefault("DALLE2_EMOJI_DIR",
            System.getProperty("user.home") + "/.cache/dalle2-data"));

    @Test
    void realEmojiFromTheNpmTarballs() {
        assumeTrue(EmojiDataset.isPresent(EMOJI_DIR, EmojiDataset.Vendor.GOOGLE)
                && EmojiDataset.isPresent(EMOJI_DIR, EmojiDataset.Vendor.TWITTER), "no emoji tarballs in " + EMOJI_DIR);
        DatasetOptions options = DatasetOptions.of(32);

        long t0 = System.nanoTime();
        ImageCaptionDataset emoji = EmojiDataset.open(EMOJI_DIR, options);
        long t1 = System.nanoTime();
        List<LoadedItem> loaded = emoji.loadAll();
        long t2 = System.nanoTime();

        Map<String, Integer> counts = emoji.countsBySource();
        HeldOutSplit split = HeldOutSplit.DEFAULT;
        long heldOutNames = emoji.heldOut(split).items().stream().map(ImageCaptionItem::splitKey).distinct().count();
        long names = emoji.items().stream().map(ImageCaptionItem::splitKey).distinct().count();
        System.out.printf("emoji items per vendor %s, %d captions, %s; index %.1f s, decode all at 32x32 %.1f s (%d images);"
                        + " held out (%.0f%%) %d of %d split keys, %d items%n",
                counts, emoji.captionCount(), options.report().summary(), (t1 - t0) / 1e9, (t2 - t1) / 1e9, loaded.size(),
                split.fraction() * 100, heldOutNames, names, emoji.heldOut(split).size());
        emoji.shuffled(1).items().subList(0, 8).forEach(i -> System.out.println("  " + i.id() + " " + i.captions()));

        assertTrue(counts.get("emoji-google") > 3000, counts.toString());
        assertTrue(counts.get("emoji-twitter") > 3000, counts.toString());
        assertEquals(emoji.size(), loaded.size());
        assertEquals(0, options.report().skipped());
    }

    @Test
    void realFashionMnistFromTheDebianPackage() {
        assumeTrue(FashionMnistDataset.isPresent(FashionMnistDataset.DEBIAN_DIR), "dataset-fashion-mnist is not installed");

        ImageCaptionDataset train = FashionMnistDataset.open(FashionMnistDataset.DEBIAN_DIR, FashionMnistDataset.Split.TRAIN, DatasetOptions.of(32));
        ImageCaptionDataset test = FashionMnistDataset.open(FashionMnistDataset.DEBIAN_DIR, FashionMnistDataset.Split.TEST, DatasetOptions.of(32));
        long[] perClass = new long[10];
        test.items().forEach(i -> perClass[i.label()]++);
        System.out.printf("Fashion-MNIST train %d, test %d, test per class %s%n", train.size(), test.size(), java.util.Arrays.toString(perClass));

        assertEquals(60000, train.size());
        assertEquals(10000, test.size());
        assertTrue(test.get(0).loadImage().isPresent());
    }
}
