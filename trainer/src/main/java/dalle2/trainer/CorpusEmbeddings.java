package dalle2.trainer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dalle2.models.ClipEncoder;
import dalle2.training.TensorFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The CLIP embeddings of a training corpus, computed once by the {@code embed} step (the seed's batches carry
 * z_img and z_txt): one image embedding per item and one text embedding per caption of each item. The prior
 * learns text -> image embedding on these pairs; the decoder learns image embedding -> pixels.
 */
public final class CorpusEmbeddings {

    static final String FILE = "embeddings.safetensors";
    private static final int BATCH = 256;

    private final int dim;
    private final float[] images;          // (N, D)
    private final float[] captions;        // (U, D): each distinct caption once
    private final int[] captionRows;       // (M): row in captions of every (item, caption) pair
    private final int[] captionStart;      // (N + 1): pairs of item i are captionStart[i] … captionStart[i+1]−1

    CorpusEmbeddings(int dim, float[] images, float[] captions, int[] captionRows, int[] captionStart) {
        this.dim = dim;
        this.images = images;
        this.captions = captions;
        this.captionRows = captionRows;
        this.captionStart = captionStart;
    }

    /** Runs CLIP over every image and caption of the corpus. */
    public static CorpusEmbeddings compute(ClipEncoder clip, TrainingCorpus corpus, NDManager manager) {
        int n = corpus.size();
        int dim = clip.dim();
        float[] images = new float[n * dim];
        for (int start = 0; start < n; start += BATCH) {
            int end = Math.min(n, start + BATCH);
            int[] indices = new int[end - start];
            for (int i = 0; i < indices.length; i++) {
                indices[i] = start + i;
            }
            try (NDManager scope = manager.newSubManager()) {
                NDArray embeddings = clip.encodeImageTensor(corpus.images(scope, indices));
                System.arraycopy(embeddings.toFloatArray(), 0, images, start * dim, indices.length * dim);
            }
        }
        // Fashion-MNIST repeats the same few captions 60,000 times: encode each distinct caption once
        int[] captionStart = new int[n + 1];
        java.util.Map<String, Integer> distinct = new java.util.LinkedHashMap<>();
        List<Integer> rowOfCaption = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            captionStart[i] = rowOfCaption.size();
            for (String caption : corpus.entry(i).captions()) {
                rowOfCaption.add(distinct.computeIfAbsent(caption, c -> distinct.size()));
            }
        }
        captionStart[n] = rowOfCaption.size();
        List<String> unique = new ArrayList<>(distinct.keySet());
        float[] uniqueEmbeddings = new float[unique.size() * dim];
        for (int start = 0; start < unique.size(); start += BATCH) {
            int end = Math.min(unique.size(), start + BATCH);
            try (NDManager scope = manager.newSubManager()) {
                NDArray embeddings = clip.encodeText(scope, unique.subList(start, end));
                System.arraycopy(embeddings.toFloatArray(), 0, uniqueEmbeddings, start * dim, (end - start) * dim);
            }
        }
        int[] captionRows = rowOfCaption.stream().mapToInt(Integer::intValue).toArray();
        return new CorpusEmbeddings(dim, images, uniqueEmbeddings, captionRows, captionStart);
    }

    public int dim() {
        return dim;
    }

    public int size() {
        return captionStart.length - 1;
    }

    public int captionCount(int item) {
        return captionStart[item + 1] - captionStart[item];
    }

    /** Image embeddings of the given items, (B, D). */
    public NDArray images(NDManager manager, int[] items) {
        float[] out = new float[items.length * dim];
        for (int b = 0; b < items.length; b++) {
            System.arraycopy(images, items[b] * dim, out, b * dim, dim);
        }
        return manager.create(out, new Shape(items.length, dim));
    }

    /** Text embeddings of caption {@code caption[b]} of item {@code items[b]}, (B, D). */
    public NDArray captions(NDManager manager, int[] items, int[] caption) {
        float[] out = new float[items.length * dim];
        for (int b = 0; b < items.length; b++) {
            int row = captionRows[captionStart[items[b]] + caption[b]];
            System.arraycopy(captions, row * dim, out, b * dim, dim);
        }
        return manager.create(out, new Shape(items.length, dim));
    }

    public void save(Path dir, NDManager manager) throws IOException {
        Files.createDirectories(dir);
        try (NDManager scope = manager.newSubManager()) {
            NDArray imageArray = scope.create(images, new Shape(size(), dim));
            imageArray.setName("image_embeddings");
            NDArray captionArray = scope.create(captions, new Shape(captions.length / dim, dim));
            captionArray.setName("caption_embeddings");
            NDArray rows = scope.create(captionRows);
            rows.setName("caption_rows");
            NDArray starts = scope.create(captionStart);
            starts.setName("caption_start");
            TensorFile.write(dir.resolve(FILE), new NDList(imageArray, captionArray, rows, starts));
        }
    }

    public static boolean exists(Path dir) {
        return Files.isRegularFile(dir.resolve(FILE));
    }

    public static CorpusEmbeddings load(Path dir, NDManager manager) throws IOException {
        try (NDManager scope = manager.newSubManager()) {
            NDList list = TensorFile.read(dir.resolve(FILE), scope);
            NDArray imageArray = list.get("image_embeddings");
            int dim = (int) imageArray.getShape().get(1);
            return new CorpusEmbeddings(dim, imageArray.toFloatArray(), list.get("caption_embeddings").toFloatArray(),
                    list.get("caption_rows").toIntArray(), list.get("caption_start").toIntArray());
        }
    }
}
