package dalle2.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class ImageCaptionDatasetTest {

    /** n items "<prefix>/<i>" with split keys "key<i / 3>" (three items per key); items in {@code bad} fail to decode. */
    static ImageCaptionDataset synthetic(String prefix, int n, int size, Set<Integer> bad, DatasetOptions options) {
        List<ImageCaptionItem> items = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int index = i;
            ImageSource source = () -> {
                if (bad.contains(index)) {
                    throw new IOException("bad bytes");
                }
                BufferedImage image = new BufferedImage(size, size, BufferedImage.TYPE_INT_RGB);
                image.setRGB(0, 0, index);
                return image;
            };
            items.add(new ImageCaptionItem(prefix + "/" + i, prefix, "key" + (i / 3), List.of("caption " + i),
                    ImageCaptionItem.NO_LABEL, Map.of(), new LazyImage(source, prefix, options)));
        }
        return ImageCaptionDataset.of(prefix, size, items, options.report());
    }

    private static List<String> ids(ImageCaptionDataset d) {
        return d.items().stream().map(ImageCaptionItem::id).toList();
    }

    @Test
    void theSameSeedGivesTheSameOrderAndAnotherSeedAnother() {
        ImageCaptionDataset d = synthetic("s", 50, 8, Set.of(), DatasetOptions.of(8));

        List<String> a = ids(d.shuffled(7));
        List<String> b = ids(d.shuffled(7));
        List<String> c = ids(d.shuffled(8));

        assertEquals(a, b);
        assertNotEquals(a, c);
        assertNotEquals(ids(d), a);
        assertEquals(Set.copyOf(ids(d)), Set.copyOf(a));
        assertEquals(50, a.size());
        // pinned: the order must not change between versions, or resumed runs would see other batches
        assertEquals(List.of("s/16", "s/36", "s/6", "s/24", "s/5"), a.subList(0, 5));
    }

    @Test
    void theHeldOutSplitDependsOnlyOnTheKeyAndKeepsGroupsTogether() {
        ImageCaptionDataset d = synthetic("h", 3000, 8, Set.of(), DatasetOptions.of(8));
        HeldOutSplit split = new HeldOutSplit(0.1);

        ImageCaptionDataset heldOut = d.heldOut(split);
        ImageCaptionDataset heldIn = d.heldIn(split);
        ImageCaptionDataset heldOutOfShuffled = d.shuffled(99).heldOut(split);

        assertEquals(3000, heldOut.size() + heldIn.size());
        assertTrue(heldOut.size() > 240 && heldOut.size() < 360, "held out " + heldOut.size());
        assertEquals(Set.copyOf(ids(heldOut)), Set.copyOf(ids(heldOutOfShuffled)));
        Set<String> outKeys = heldOut.items().stream().map(ImageCaptionItem::splitKey).collect(Collectors.toSet());
        assertTrue(heldIn.items().stream().noneMatch(i -> outKeys.contains(i.splitKey())));
        assertEquals(0, heldOut.size() % 3, "all three items of a key go together");
        // pinned: a key's side never changes between runs or versions
        assertEquals(0.800334224, HeldOutSplit.bucket("emoji/1f600"), 1e-9);
        assertTrue(new HeldOutSplit(0.81).isHeldOut("emoji/1f600"));
        assertTrue(!new HeldOutSplit(0.8).isHeldOut("emoji/1f600"));
    }

    @Test
    void aMixtureConcatenatesItemsAndSumsTheReports() {
        DatasetOptions a = DatasetOptions.of(8);
        DatasetOptions b = DatasetOptions.of(8);
        ImageCaptionDataset mix = ImageCaptionDataset.concat(List.of(
                synthetic("a", 4, 8, Set.of(1), a), synthetic("b", 3, 8, Set.of(0, 2), b)));

        List<LoadedItem> loaded = mix.loadAll();

        assertEquals("a+b", mix.name());
        assertEquals(7, mix.size());
        assertEquals(List.of("a/0", "a/2", "a/3", "b/1"), loaded.stream().map(l -> l.item().id()).toList());
        assertEquals(1, a.report().skipped());
        assertEquals(2, b.report().skipped());
        assertEquals(3, mix.report().skipped(DatasetReport.Reason.CORRUPT_IMAGE));
        assertEquals(Map.of("a", 4, "b", 3), mix.countsBySource());
    }

    @Test
    void aMixtureRefusesDifferentImageSizesAndDuplicateIds() {
        IllegalArgumentException sizes = assertThrows(IllegalArgumentException.class, () -> ImageCaptionDataset.concat(
                List.of(synthetic("a", 2, 8, Set.of(), DatasetOptions.of(8)), synthetic("b", 2, 16, Set.of(), DatasetOptions.of(16)))));
        assertTrue(sizes.getMessage().contains("16 px"), sizes.getMessage());
        IllegalArgumentException dup = assertThrows(IllegalArgumentException.class, () -> ImageCaptionDataset.concat(
                List.of(synthetic("a", 2, 8, Set.of(), DatasetOptions.of(8)), synthetic("a", 2, 8, Set.of(), DatasetOptions.of(8)))));
        assertTrue(dup.getMessage().contains("a/0"), dup.getMessage());
    }

    @Test
    void anEpochSkipsBadImagesWithoutStopping() {
        DatasetOptions options = DatasetOptions.of(8);
        ImageCaptionDataset d = synthetic("e", 20, 8, Set.of(3, 4, 17), options);

        List<String> seen = new ArrayList<>();
        d.epoch(1).forEachRemaining(l -> seen.add(l.item().id()));

        assertEquals(17, seen.size());
        assertEquals(3, options.report().skipped(DatasetReport.Reason.CORRUPT_IMAGE));
        assertEquals(ids(d.shuffled(1)).stream().filter(id -> !Set.of("e/3", "e/4", "e/17").contains(id)).toList(), seen);
    }

    @Test
    void aStrictEpochStopsAtTheBadImageNamingIt() {
        ImageCaptionDataset d = synthetic("e", 10, 8, Set.of(5), DatasetOptions.of(8).strict());

        Iterator<LoadedItem> epoch = d.epoch(0);
        DatasetException e = assertThrows(DatasetException.class, () -> epoch.forEachRemaining(l -> { }));

        assertTrue(e.getMessage().contains("e/5") && e.getMessage().contains("corrupt image"), e.getMessage());
    }

    @Test
    void anItemNeedsANonBlankCaption() {
        LazyImage image = new LazyImage(() -> new BufferedImage(8, 8, BufferedImage.TYPE_INT_RGB), "x", DatasetOptions.of(8));
        assertThrows(IllegalArgumentException.class,
                () -> new ImageCaptionItem("x/1", "x", "x/1", List.of(), -1, Map.of(), image));
        assertThrows(IllegalArgumentException.class,
                () -> new ImageCaptionItem("x/1", "x", "x/1", List.of("ok", " "), -1, Map.of(), image));
    }
}
