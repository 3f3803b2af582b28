package dalle2.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FashionMnistDatasetTest {

    @TempDir
    Path dir;

    /** Three 28x28 training images: all-dark with one bright pixel at (row i, column i); labels 0, 9, 3. */
    private void writeTrainingSplit(byte[] labels) throws IOException {
        byte[] pixels = new byte[3 * 28 * 28];
        for (int i = 0; i < 3; i++) {
            pixels[i * 784 + i * 28 + i] = (byte) 200;
            pixels[i * 784 + 14 * 28 + 14] = (byte) (50 * (i + 1));
        }
        Fixtures.idxGz(dir.resolve("train-images-idx3-ubyte.gz"), new int[] {3, 28, 28}, pixels);
        Fixtures.idxGz(dir.resolve("train-labels-idx1-ubyte.gz"), new int[] {3}, labels);
    }

    @Test
    void readsImagesLabelsAndCaptionsFromGzippedIdx() throws IOException {
        writeTrainingSplit(new byte[] {0, 9, 3});

        ImageCaptionDataset d = FashionMnistDataset.open(dir, FashionMnistDataset.Split.TRAIN, DatasetOptions.of(32));

        assertEquals("fashion-mnist-train", d.name());
        assertEquals(3, d.size());
        assertEquals(List.of(0, 9, 3), d.items().stream().map(ImageCaptionItem::label).toList());
        assertEquals("fashion-mnist/train/0", d.get(0).id());
        assertEquals("a photo of a t-shirt", d.get(0).caption());
        assertEquals("a photo of an ankle boot", d.get(1).caption());
        assertTrue(d.get(1).captions().contains("a photo of a ankle boot"), "the literal template works too");
        assertTrue(d.get(1).captions().containsAll(List.of("an ankle boot", "ankle boot", "a picture of an ankle boot",
                "an image of an ankle boot")), d.get(1).captions().toString());
        assertEquals("dress", d.get(2).metadata().get("class"));
        assertEquals("train", d.get(2).metadata().get("split"));
    }

    @Test
    void theFirstImagesOfEachClassComeInDatasetOrderUpToTheAskedCount() throws IOException {
        writeTrainingSplit(new byte[] {3, 0, 3});
        ImageCaptionDataset d = FashionMnistDataset.open(dir, FashionMnistDataset.Split.TRAIN, DatasetOptions.of(32));

        List<List<BufferedImage>> one = FashionMnistDataset.firstImagesOfEachClass(d, 1);
        List<List<BufferedImage>> all = FashionMnistDataset.firstImagesOfEachClass(d, 5);

        assertEquals(FashionMnistDataset.CLASSES.size(), one.size());
        assertEquals(List.of(1, 0, 0, 1, 0, 0, 0, 0, 0, 0), one.stream().map(List::size).toList());
        assertEquals(List.of(1, 0, 0, 2, 0, 0, 0, 0, 0, 0), all.stream().map(List::size).toList());
        // image i has its bright pixel at (i, i), 2 px in from the padding
        assertEquals(0xC8C8C8, Fixtures.rgb(one.get(3).get(0), 2, 2), "class 3 starts with image 0");
        assertEquals(0xC8C8C8, Fixtures.rgb(all.get(3).get(1), 4, 4), "then image 2");
        assertEquals(0xC8C8C8, Fixtures.rgb(one.get(0).get(0), 3, 3), "class 0 is image 1");
    }

    @Test
    void imagesArePaddedWithBlackToThirtyTwoAsRgb() throws IOException {
        writeTrainingSplit(new byte[] {0, 9, 3});
        ImageCaptionDataset d = FashionMnistDataset.open(dir, FashionMnistDataset.Split.TRAIN, DatasetOptions.of(32));

        BufferedImage image = d.get(1).loadImage().orElseThrow();

        assertEquals(32, image.getWidth());
        assertEquals(BufferedImage.TYPE_INT_RGB, image.getType());
        assertEquals(0xC8C8C8, Fixtures.rgb(image, 1 + 2, 1 + 2)); // pixel (1,1) moved by the 2 px border
        assertEquals(0x646464, Fixtures.rgb(image, 16, 16));
        assertEquals(0x000000, Fixtures.rgb(image, 0, 0));
    }

    @Test
    void atSixtyFourTheImageIsEnlargedTwice() throws IOException {
        writeTrainingSplit(new byte[] {0, 9, 3});
        ImageCaptionDataset d = FashionMnistDataset.open(dir, FashionMnistDataset.Split.TRAIN, DatasetOptions.of(64));

        BufferedImage image = d.get(2).loadImage().orElseThrow();

        assertEquals(64, image.getWidth());
        int centre = Fixtures.rgb(image, 32, 32) & 0xFF; // the 150 pixel at padded (16,16) covers 64-px (32..33)
        assertTrue(centre > 60 && centre <= 150, "centre " + centre);
    }

    @Test
    void aLabelOutOfRangeIsSkippedAndCounted() throws IOException {
        writeTrainingSplit(new byte[] {0, 42, 3});
        DatasetOptions options = DatasetOptions.of(32);

        ImageCaptionDataset d = FashionMnistDataset.open(dir, FashionMnistDataset.Split.TRAIN, options);

        assertEquals(2, d.size());
        assertEquals(1, options.report().skipped(DatasetReport.Reason.BAD_LABEL));
        DatasetException strict = assertThrows(DatasetException.class,
                () -> FashionMnistDataset.open(dir, FashionMnistDataset.Split.TRAIN, DatasetOptions.of(32).strict()));
        assertTrue(strict.getMessage().contains("fashion-mnist/train/1"), strict.getMessage());
    }

    @Test
    void missingFilesSayWhichDebianPackageToInstall() {
        DatasetException e = assertThrows(DatasetException.class,
                () -> FashionMnistDataset.open(dir, FashionMnistDataset.Split.TEST, DatasetOptions.of(32)));
        assertTrue(e.getMessage().contains("apt-get install dataset-fashion-mnist"), e.getMessage());
        assertTrue(e.getMessage().contains("t10k-images-idx3-ubyte"), e.getMessage());
    }

    @Test
    void imageAndLabelCountsMustAgree() throws IOException {
        Fixtures.idxGz(dir.resolve("t10k-images-idx3-ubyte.gz"), new int[] {2, 28, 28}, new byte[2 * 784]);
        Fixtures.idxGz(dir.resolve("t10k-labels-idx1-ubyte.gz"), new int[] {3}, new byte[3]);

        DatasetException e = assertThrows(DatasetException.class,
                () -> FashionMnistDataset.open(dir, FashionMnistDataset.Split.TEST, DatasetOptions.of(32)));
        assertTrue(e.getMessage().contains("3 labels for 2 images"), e.getMessage());
    }

    @Test
    void promptsAndClassNamesArePublicForEvaluation() {
        assertEquals(10, FashionMnistDataset.CLASSES.size());
        assertEquals("a photo of a t-shirt", FashionMnistDataset.prompt(0));
        assertEquals("a photo of a trouser", FashionMnistDataset.prompt(1));
        assertEquals("a photo of an ankle boot", FashionMnistDataset.prompt(9));
        assertEquals(9, FashionMnistDataset.labelOf("Ankle Boot"));
        assertEquals(-1, FashionMnistDataset.labelOf("hat"));
    }
}
