package dalle2.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DataFetcherTest {

    @TempDir
    Path dir;

    private final List<String> log = new ArrayList<>();

    private DataFetcher fetcher(String npm, Path debian) {
        return new DataFetcher(npm, debian, log::add);
    }

    @Test
    void anUnknownDatasetListsTheValidOnes() {
        DatasetException e = assertThrows(DatasetException.class, () -> fetcher("npm", dir).fetch("cifar10", dir));
        assertEquals("unknown dataset 'cifar10'; valid: emoji, fashion-mnist", e.getMessage());
    }

    @Test
    void withoutNpmTheMessageSaysWhatToInstall() {
        DatasetException e = assertThrows(DatasetException.class,
                () -> fetcher("npm-that-is-not-installed", dir).fetch("emoji", dir));
        assertTrue(e.getMessage().contains("npm is not on the PATH") && e.getMessage().contains("apt-get install npm"), e.getMessage());
    }

    @Test
    void withoutFashionMnistTheMessageNamesTheDebianPackage() {
        DatasetException e = assertThrows(DatasetException.class,
                () -> fetcher("npm", dir.resolve("no-debian")).fetch("fashion-mnist", dir));
        assertTrue(e.getMessage().contains("apt-get install dataset-fashion-mnist"), e.getMessage());
    }

    @Test
    void fashionMnistIsCheckedWhereItIsInstalled() throws IOException {
        Path debian = dir.resolve("usr-share");
        for (String split : List.of("train", "t10k")) {
            int n = split.equals("train") ? 3 : 2;
            Fixtures.idxGz(debian.resolve(split + "-images-idx3-ubyte.gz"), new int[] {n, 28, 28}, new byte[n * 784]);
            Fixtures.idxGz(debian.resolve(split + "-labels-idx1-ubyte.gz"), new int[] {n}, new byte[n]);
        }

        DataFetcher.FetchResult result = fetcher("npm", debian).fetch("fashion-mnist", dir.resolve("data"));

        assertEquals(debian, result.location());
        assertEquals(List.of("Fashion-MNIST train: 3 images in " + debian, "Fashion-MNIST test: 2 images in " + debian), result.lines());
    }

    @Test
    void tarballsAlreadyPresentAreExtractedAndCheckedWithoutNpm() throws IOException {
        Path emojiDir = dir.resolve("data/emoji");
        String json = "[{\"name\": \"DOG FACE\", \"unified\": \"1F436\", \"image\": \"1f436.png\", \"short_names\": [\"dog\"],"
                + " \"category\": \"Animals & Nature\", \"subcategory\": \"animal-mammal\", \"has_img_google\": true, \"has_img_twitter\": true}]";
        for (String vendor : List.of("google", "twitter")) {
            Map<String, byte[]> files = new LinkedHashMap<>();
            files.put("package/emoji.json", json.getBytes());
            files.put("package/img/" + vendor + "/64/1f436.png", Fixtures.solidPng(64, 0x996633));
            files.put("package/img/" + vendor + "/sheets/64.png", new byte[10]);
            Fixtures.tar(emojiDir.resolve("emoji-datasource-" + vendor + "-16.0.0.tgz"), files);
        }

        DataFetcher.FetchResult result = fetcher("npm-that-is-not-installed", dir)
                .fetch("emoji", dir.resolve("data"), List.of(EmojiVendor.GOOGLE, EmojiVendor.TWITTER));

        assertEquals(4, result.lines().size()); // per vendor: the check, then the index
        assertTrue(result.lines().get(0).startsWith("emoji-datasource-google@16.0.0: 1 emoji, 1 images"), result.lines().get(0));
        assertTrue(Files.isRegularFile(emojiDir.resolve("emoji-datasource-twitter/package/img/twitter/64/1f436.png")));
        assertTrue(Files.notExists(emojiDir.resolve("emoji-datasource-twitter/package/img/twitter/sheets")), "sheets are skipped");
        assertEquals(List.of("dog face", "dog"), EmojiDataset.open(emojiDir, DatasetOptions.of(32)).get(1).captions());
    }

    @Test
    void anExtractedPackageWithMissingImagesIsReported() throws IOException {
        Path pkg = dir.resolve("data/emoji/emoji-datasource-google/package");
        Fixtures.write(pkg.resolve("emoji.json"), "[{\"name\": \"DOG FACE\", \"image\": \"1f436.png\", \"has_img_google\": true}]");
        Files.createDirectories(pkg.resolve("img/google/64"));

        DatasetException e = assertThrows(DatasetException.class, () -> fetcher("npm-that-is-not-installed", dir)
                .fetch("emoji", dir.resolve("data"), List.of(EmojiVendor.GOOGLE)));

        assertTrue(e.getMessage().contains("1 of 1 google images are missing") && e.getMessage().contains("1f436.png"), e.getMessage());
    }
}
