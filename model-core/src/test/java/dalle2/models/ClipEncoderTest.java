package dalle2.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import ai.djl.util.Pair;
import dalle2.djl.DjlRuntime;
import dalle2.inference.ImageTensors;
import dalle2.json.Json;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ClipEncoderTest {

    private static final Map<String, Color> COLOURS = Map.of(
            "red", Color.RED, "green", Color.GREEN, "blue", Color.BLUE, "yellow", Color.YELLOW,
            "cyan", Color.CYAN, "magenta", Color.MAGENTA, "white", Color.WHITE, "black", Color.BLACK);
    private static final List<String> NAMES = List.of("red", "green", "blue", "yellow", "cyan", "magenta", "white", "black");

    @TempDir
    Path dir;

    @BeforeAll
    static void offline() {
        DjlRuntime.configure();
    }

    private Path tokenizer() throws IOException {
        Path file = dir.resolve("tokenizer.json");
        ClipTokenizer.writeWordLevel(captions(), 1, file);
        return file;
    }

    private static List<String> captions() {
        List<String> captions = new ArrayList<>();
        for (String name : NAMES) {
            captions.add("a " + name + " square");
        }
        return captions;
    }

    /** A square of the colour on a grey background, centred, half the image wide. */
    private static List<BufferedImage> squares(int size) {
        List<BufferedImage> images = new ArrayList<>();
        for (String name : NAMES) {
            BufferedImage image = new BufferedImage(size, size, BufferedImage.TYPE_INT_RGB);
            Graphics2D g = image.createGraphics();
            g.setColor(Color.GRAY);
            g.fillRect(0, 0, size, size);
            g.setColor(COLOURS.get(name));
            g.fillRect(size / 4, size / 4, size / 2, size / 2);
            g.dispose();
            images.add(image);
        }
        return images;
    }

    @Test
    void encodesTextAndImagesToUnitRowsOfTheConfiguredWidth() throws IOException {
        try (NDManager manager = DjlRuntime.newManager();
             ClipEncoder clip = ClipEncoder.create(ClipConfig.tiny(), tokenizer(), manager)) {
            assertEquals(32, clip.dim());
            NDArray text = clip.encodeText(List.of("a red square", "blue", "something never seen"));
            assertArrayEquals(new long[] {3, 32}, text.getShape().getShape());
            assertArrayEquals(new float[] {1, 1, 1}, text.norm(new int[] {1}).toFloatArray(), 1e-5f);
            NDArray images = clip.encodeImages(squares(40).subList(0, 2));   // resized to 16×16
            assertArrayEquals(new long[] {2, 32}, images.getShape().getShape());
            assertArrayEquals(new float[] {1, 1}, images.norm(new int[] {1}).toFloatArray(), 1e-5f);
            NDArray tensor = ImageTensors.toTensor(manager, squares(16), 3, 16);
            NDArray fromTensor = clip.encodeImageTensor(tensor);
            assertArrayEquals(new long[] {8, 32}, fromTensor.getShape().getShape());
            assertEquals(1 / 0.07f, clip.logitScale(), 1e-3f);
        }
    }

    @Test
    void aPromptsTextEmbeddingIsTheSameAloneAndInsideABatch() throws IOException {
        try (NDManager manager = DjlRuntime.newManager();
             ClipEncoder clip = ClipEncoder.create(ClipConfig.tiny(), tokenizer(), manager)) {
            float[] alone = clip.encodeText(List.of("a cyan square")).toFloatArray();
            NDArray batch = clip.encodeText(List.of("red", "a white square of black", "a cyan square", "green"));
            float[] inside = batch.get(2).toFloatArray();
            assertArrayEquals(alone, inside, 1e-5f);
            float[] image = clip.encodeImages(squares(16).subList(3, 4)).toFloatArray();
            assertArrayEquals(image, clip.encodeImages(squares(16)).get(3).toFloatArray(), 1e-5f);
        }
    }

    @Test
    void savedThenLoadedGivesIdenticalEmbeddings() throws IOException {
        Path model = dir.resolve("clip");
        List<String> prompts = List.of("a red square", "a black square");
        try (NDManager manager = DjlRuntime.newManager()) {
            float[] text;
            float[] images;
            try (ClipEncoder clip = ClipEncoder.create(ClipConfig.tiny(), tokenizer(), manager)) {
                text = clip.encodeText(prompts).toFloatArray();
                images = clip.encodeImages(squares(16)).toFloatArray();
                clip.save(model);
            }
            assertTrue(Files.isRegularFile(model.resolve("config.json")));
            assertTrue(Files.isRegularFile(model.resolve("weights.safetensors")));
            assertTrue(Files.isRegularFile(model.resolve("tokenizer.json")));
            try (ClipEncoder loaded = ClipEncoder.load(model, manager)) {
                assertEquals(ClipConfig.tiny(), loaded.config());
                assertArrayEquals(text, loaded.encodeText(prompts).toFloatArray(), 0f);
                assertArrayEquals(images, loaded.encodeImages(squares(16)).toFloatArray(), 0f);
            }
        }
    }

    @Test
    void aConfigThatDoesNotMatchTheWeightsIsRefusedNamingTheMismatch() throws IOException {
        Path model = dir.resolve("clip");
        try (NDManager manager = DjlRuntime.newManager()) {
            try (ClipEncoder clip = ClipEncoder.create(ClipConfig.tiny(), tokenizer(), manager)) {
                clip.save(model);
            }
            Json.writeFile(model.resolve("config.json"), ClipConfig.tiny().withEmbeddingDim(48));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> ClipEncoder.load(model, manager));
            assertTrue(e.getMessage().contains("CLIP weights"), e.getMessage());
            assertTrue(e.getMessage().contains("do not match its config.json"), e.getMessage());
            assertTrue(e.getMessage().contains("projection"), e.getMessage());
            assertTrue(e.getMessage().contains("(48, "), e.getMessage());

            Files.delete(model.resolve("tokenizer.json"));
            NoSuchFileException missing = assertThrows(NoSuchFileException.class, () -> ClipEncoder.load(model, manager));
            assertTrue(missing.getMessage().contains("tokenizer.json"), missing.getMessage());
        }
    }

    @Test
    void aTokenizerLargerThanTheConfiguredVocabularyIsRefused() throws IOException {
        Path file = tokenizer();
        try (NDManager manager = DjlRuntime.newManager()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> ClipEncoder.create(ClipConfig.tiny().withVocabSize(6), file, manager));
            assertTrue(e.getMessage().contains("vocab_size is 6"), e.getMessage());
        }
    }

    @Test
    void encodingDoesNotGrowNativeMemory() throws IOException {
        try (NDManager manager = DjlRuntime.newManager();
             ClipEncoder clip = ClipEncoder.create(ClipConfig.tiny(), tokenizer(), manager)) {
            clip.encodeText(List.of("warm up")).close();
            clip.encodeImages(squares(16)).close();
            int before = manager.getManagedArrays().size();
            for (int i = 0; i < 5; i++) {
                clip.encodeText(captions()).close();
                clip.encodeImages(squares(16)).close();
                try (NDManager job = manager.newSubManager()) {
                    NDArray embeddings = clip.encodeImageTensor(ImageTensors.toTensor(job, squares(16), 3, 16));
                    NDArray text = clip.encodeText(job, captions());
                    assertSame(job, embeddings.getManager());
                    assertSame(job, text.getManager());
                    assertEquals(3, job.getManagedArrays().size(), "only the input and the two results");
                }
            }
            assertEquals(before, manager.getManagedArrays().size());
        }
    }

    @Test
    void contrastiveTrainingOnColouredSquaresCutsTheLossTenfoldAndEachImageRetrievesItsCaption() throws IOException {
        Engine.getInstance().setRandomSeed(7);
        try (NDManager manager = DjlRuntime.newManager();
             ClipEncoder clip = ClipEncoder.create(ClipConfig.tiny(), tokenizer(), manager)) {
            List<String> captions = captions();
            List<BufferedImage> images = squares(16);
            ClipTokenizer.Tokens tokens = clip.tokenize(captions);
            Optimizer adam = Optimizer.adam().optLearningRateTracker(Tracker.fixed(3e-3f)).build();
            ParameterStore ps = new ParameterStore(manager, false);
            float first = 0;
            float last = 0;
            int arraysAfterFirstSteps = 0;
            for (int step = 0; step < 40; step++) {
                try (NDManager scope = manager.newSubManager()) {
                    NDArray pixels = ImageTensors.toTensor(scope, images, 3, 16);
                    float loss;
                    try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                        NDArray value = clip.contrastiveLoss(ps, pixels, tokens);
                        collector.backward(value);
                        loss = value.getFloat();
                    }
                    for (Pair<String, Parameter> entry : clip.block().getParameters()) {
                        Parameter parameter = entry.getValue();
                        if (parameter.requiresGradient()) {
                            NDArray gradient = parameter.getArray().getGradient();
                            gradient.attach(scope);   // a fresh handle in the model's manager otherwise
                            adam.update(parameter.getId(), parameter.getArray(), gradient);
                        }
                    }
                    if (step == 0) {
                        first = loss;
                    }
                    last = loss;
                }
                if (step == 2) {
                    arraysAfterFirstSteps = manager.getManagedArrays().size();
                }
            }
            assertEquals(arraysAfterFirstSteps, manager.getManagedArrays().size(), "training steps leak arrays");
            assertTrue(last <= first / 10, "loss " + first + " -> " + last);

            NDArray similarity = clip.encodeImages(images).matMul(clip.encodeText(captions).transpose()); // (8, 8)
            long[] retrieved = similarity.argMax(1).toLongArray();
            assertArrayEquals(new long[] {0, 1, 2, 3, 4, 5, 6, 7}, retrieved);
        }
    }
}
