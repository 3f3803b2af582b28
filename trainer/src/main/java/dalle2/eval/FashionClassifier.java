package dalle2.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.nn.pooling.Pool;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import dalle2.data.FashionMnistDataset;
import dalle2.inference.ImageTensors;
import dalle2.json.Json;
import dalle2.models.ModelWeights;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The evaluation classifier for Fashion-MNIST: a small VGG-style CNN (Simonyan and Zisserman 2015) trained on the
 * real training split, used to label generated images and to embed them for the Fréchet distance.
 *
 * <p>Input: (B, 3, S, S) RGB or (B, 1, S, S) grey, in [−1, 1] as {@link ImageTensors} makes them. RGB is reduced to
 * grey (ITU-R 601 luma, as {@link ImageTensors} does for C = 1) because Fashion-MNIST is grey: a colour cast in a
 * generated image does not change its label. Then, for the default config, conv32 · pool · conv64 · pool · conv128 ·
 * pool (each conv 3×3, BatchNorm, ReLU), flatten, Linear(F) · ReLU = the features, Linear(10) = the logits.
 * Outputs: logits (B, 10) and features (B, F).
 */
public final class FashionClassifier extends AbstractBlock {

    public static final String CONFIG_FILE = "config.json";
    public static final String WEIGHTS_FILE = "weights.safetensors";
    /** The value of {@link Config#model()}: tells this config from the decoder's or the prior's. */
    public static final String MODEL = "fashion-classifier";
    public static final String POOL = "pool";
    public static final String CONV = "conv";

    private static final byte VERSION = 1;
    /** Images per forward pass in {@link #predict}: bounds native memory whatever the caller passes. */
    private static final int INFERENCE_BATCH = 250;

    /**
     * The architecture.
     *
     * @param model      always {@link #MODEL}
     * @param imageSize  side of the square input
     * @param layers     VGG-style: "conv<width>" (3×3 conv, BatchNorm, ReLU) or "pool" (2×2 max-pool), in order
     * @param featureDim width of the penultimate layer (the Fréchet distance features)
     * @param classes    class names in label order
     */
    public record Config(String model, int imageSize, List<String> layers, int featureDim, List<String> classes) {

        public Config {
            if (!MODEL.equals(model)) {
                throw new IllegalArgumentException("config is for model '" + model + "', not " + MODEL);
            }
            Objects.requireNonNull(layers, "layers");
            Objects.requireNonNull(classes, "classes");
            layers = List.copyOf(layers);
            classes = List.copyOf(classes);
            int side = imageSize;
            boolean anyConv = false;
            for (String layer : layers) {
                if (POOL.equals(layer)) {
                    if (side % 2 != 0) {
                        throw new IllegalArgumentException("cannot pool an odd side " + side + " in " + layers);
                    }
                    side /= 2;
                } else {
                    convWidth(layer);
                    anyConv = true;
                }
            }
            if (imageSize < 4 || !anyConv) {
                throw new IllegalArgumentException("need an image size >= 4 and at least one conv, got " + imageSize + " " + layers);
            }
            if (featureDim < 1 || classes.size() < 2) {
                throw new IllegalArgumentException("need featureDim >= 1 and >= 2 classes, got " + featureDim + ", " + classes);
            }
        }

        /** The shipped architecture: 32×32, conv32-pool-conv64-pool-conv128-pool, 128 features, 10 classes. */
        public static Config fashionMnist() {
            return new Config(MODEL, FashionMnistDataset.PADDED_SIDE,
                    List.of("conv32", POOL, "conv64", POOL, "conv128", POOL), 128, FashionMnistDataset.CLASSES);
        }

        static int convWidth(String layer) {
            if (layer != null && layer.startsWith(CONV)) {
                try {
                    int width = Integer.parseInt(layer.substring(CONV.length()));
                    if (width >= 1) {
                        return width;
                    }
                } catch (NumberFormatException ignored) {
                    // reported below
                }
            }
            throw new IllegalArgumentException("layer '" + layer + "' is neither \"pool\" nor \"conv<width>\"");
        }
    }

    /** Labels and features of a batch, in input order. */
    public record Prediction(int[] labels, double[][] features) {
    }

    private final Config config;
    private final List<Conv2d> convs = new ArrayList<>();
    private final List<BatchNorm> norms = new ArrayList<>();
    private final Linear features;
    private final Linear head;
    private NDManager manager;

    private FashionClassifier(Config config) {
        super(VERSION);
        this.config = config;
        int index = 0;
        for (String layer : config.layers()) {
            if (!POOL.equals(layer)) {
                index++;
                convs.add(addChildBlock("conv" + index, Conv2d.builder().setKernelShape(new Shape(3, 3))
                        .optPadding(new Shape(1, 1)).setFilters(Config.convWidth(layer)).optBias(false).build()));
                norms.add(addChildBlock("norm" + index, BatchNorm.builder().build()));
            }
        }
        this.features = addChildBlock("features", Linear.builder().setUnits(config.featureDim()).build());
        this.head = addChildBlock("head", Linear.builder().setUnits(config.classes().size()).build());
    }

    /** A freshly initialized classifier; the weights depend only on the seed. */
    public static FashionClassifier create(Config config, NDManager manager, long seed) {
        manager.getEngine().setRandomSeed((int) seed);
        return build(config, manager);
    }

    private static FashionClassifier build(Config config, NDManager manager) {
        FashionClassifier classifier = new FashionClassifier(config);
        classifier.initialize(manager, DataType.FLOAT32, new Shape(1, 1, config.imageSize(), config.imageSize()));
        classifier.manager = manager;
        return classifier;
    }

    /**
     * Reads {@code dir/config.json} and {@code dir/weights.safetensors}.
     *
     * @throws IllegalArgumentException when a file is missing, the config is not a classifier's, or the weights do
     *                                  not match the config (naming the mismatched parameters)
     */
    public static FashionClassifier load(Path dir, NDManager manager) throws IOException {
        Path configFile = dir.resolve(CONFIG_FILE);
        Path weightsFile = dir.resolve(WEIGHTS_FILE);
        for (Path file : List.of(configFile, weightsFile)) {
            if (!Files.isRegularFile(file)) {
                throw new IllegalArgumentException("no Fashion-MNIST classifier in " + dir + ": " + file.getFileName()
                        + " is missing (train one with: dalle2 train-classifier --out " + dir + ")");
            }
        }
        Config config;
        try {
            config = Json.readFile(configFile, Config.class);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("not a " + MODEL + " config: " + configFile + ": " + rootMessage(e), e);
        }
        FashionClassifier classifier = build(config, manager);   // initial values overwritten just below
        ModelWeights.load(classifier, weightsFile, MODEL);
        return classifier;
    }

    /** Writes config.json and weights.safetensors into {@code dir} (created if needed). */
    public void save(Path dir) throws IOException {
        Files.createDirectories(dir);
        Json.writeFile(dir.resolve(CONFIG_FILE), config);
        ModelWeights.save(this, dir.resolve(WEIGHTS_FILE));
    }

    public Config config() {
        return config;
    }

    public int featureDim() {
        return config.featureDim();
    }

    /** The most likely class of each image. */
    public int[] classify(List<BufferedImage> images) {
        return predict(images).labels();
    }

    /** The penultimate-layer features of each image, (N, featureDim). */
    public double[][] features(List<BufferedImage> images) {
        return predict(images).features();
    }

    /** Labels and features in one pass; images of another size are resized to {@link Config#imageSize()}. */
    public Prediction predict(List<BufferedImage> images) {
        int[] labels = new int[images.size()];
        double[][] feats = new double[images.size()][];
        for (int start = 0; start < images.size(); start += INFERENCE_BATCH) {
            List<BufferedImage> chunk = images.subList(start, Math.min(images.size(), start + INFERENCE_BATCH));
            try (NDManager call = manager.newSubManager()) {
                NDArray x = ImageTensors.toTensor(call, chunk, 3, config.imageSize());   // (b, 3, S, S)
                copyPrediction(x, labels, feats, start);
            }
        }
        return new Prediction(labels, feats);
    }

    /** Labels and features of a tensor batch (B, 1|3, S, S); the caller owns the tensor's manager. */
    public Prediction predict(NDArray images) {
        int n = (int) images.getShape().get(0);
        int[] labels = new int[n];
        double[][] feats = new double[n][];
        try (NDManager call = images.getManager().newSubManager()) {
            images.tempAttach(call);   // the intermediates follow their first operand into the call's manager
            copyPrediction(images, labels, feats, 0);
        }
        return new Prediction(labels, feats);
    }

    private void copyPrediction(NDArray x, int[] labels, double[][] feats, int offset) {
        NDList out = forward(new ParameterStore(x.getManager(), false), new NDList(x), false);
        try (NDList owned = out) {
            long[] argmax = out.get(0).argMax(1).toType(DataType.INT64, false).toLongArray();
            float[] f = out.get(1).toFloatArray();
            int dim = config.featureDim();
            for (int i = 0; i < argmax.length; i++) {
                labels[offset + i] = (int) argmax[i];
                double[] row = new double[dim];
                for (int j = 0; j < dim; j++) {
                    row[j] = f[i * dim + j];
                }
                feats[offset + i] = row;
            }
        }
    }

    @Override
    protected NDList forwardInternal(ParameterStore parameterStore, NDList inputs, boolean training,
                                     PairList<String, Object> params) {
        NDArray x = grey(inputs.singletonOrThrow());                                        // (B, 1, S, S)
        int conv = 0;
        for (String layer : config.layers()) {
            if (POOL.equals(layer)) {
                x = Pool.maxPool2d(x, new Shape(2, 2), new Shape(2, 2), new Shape(0, 0), false);   // (B, C, s/2, s/2)
            } else {
                x = convs.get(conv).forward(parameterStore, new NDList(x), training).singletonOrThrow();
                x = norms.get(conv).forward(parameterStore, new NDList(x), training).singletonOrThrow();
                x = Activation.relu(x);                                                      // (B, C, s, s)
                conv++;
            }
        }
        x = x.reshape(x.getShape().get(0), -1);                                             // (B, C·s·s)
        NDArray feats = Activation.relu(features.forward(parameterStore, new NDList(x), training).singletonOrThrow()); // (B, F)
        NDArray logits = head.forward(parameterStore, new NDList(feats), training).singletonOrThrow();                 // (B, K)
        return new NDList(logits, feats);
    }

    /** (B, 3, S, S) RGB to (B, 1, S, S) luma; grey input passes through. */
    private static NDArray grey(NDArray x) {
        long channels = x.getShape().get(1);
        if (channels == 1) {
            return x;
        }
        if (channels != 3) {
            throw new IllegalArgumentException("expected 1 or 3 channels, got shape " + x.getShape());
        }
        NDArray luma = x.getManager().create(new float[] {0.299f, 0.587f, 0.114f}, new Shape(1, 3, 1, 1));
        return x.mul(luma).sum(new int[] {1}, true);
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        long batch = inputShapes[0].get(0);
        return new Shape[] {new Shape(batch, config.classes().size()), new Shape(batch, config.featureDim())};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        long batch = inputShapes[0].get(0);
        long channels = 1;
        long side = config.imageSize();
        int conv = 0;
        for (String layer : config.layers()) {
            if (POOL.equals(layer)) {
                side /= 2;
            } else {
                Shape in = new Shape(batch, channels, side, side);
                convs.get(conv).initialize(manager, dataType, in);
                channels = Config.convWidth(layer);
                norms.get(conv).initialize(manager, dataType, new Shape(batch, channels, side, side));
                conv++;
            }
        }
        features.initialize(manager, dataType, new Shape(batch, channels * side * side));
        head.initialize(manager, dataType, new Shape(batch, config.featureDim()));
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null) {
            t = t.getCause();
        }
        return t.getMessage();
    }
}
