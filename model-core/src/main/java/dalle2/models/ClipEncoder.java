package dalle2.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.ConstantInitializer;
import ai.djl.util.PairList;
import dalle2.djl.Differentiable;
import dalle2.djl.DjlRuntime;
import dalle2.inference.ImageTensors;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/**
 * The project's CLIP (Radford et al. 2021): a text tower and an image tower mapping captions and images to
 * unit vectors of one joint space, trained with the symmetric contrastive (InfoNCE) loss and a learned
 * temperature. DALL·E 2's prior maps its text embeddings to image embeddings; the decoder draws images from
 * image embeddings.
 *
 * <p>A model directory holds {@code config.json} ({@link ClipConfig}), {@code weights.safetensors} and the
 * {@code tokenizer.json} its text tower was trained with. Parameters live in a sub-manager of the manager
 * given to {@link #create} or {@link #load}, released by {@link #close}. Every inference call runs in its
 * own sub-manager and hands back only its result, attached to the caller's manager, so encoding does not
 * grow native memory.
 */
public final class ClipEncoder implements AutoCloseable {

    public static final String CONFIG_FILE = "config.json";
    public static final String WEIGHTS_FILE = "weights.safetensors";
    public static final String TOKENIZER_FILE = "tokenizer.json";

    private final ClipConfig config;
    private final ClipTokenizer tokenizer;
    private final NDManager callerManager;
    private final NDManager modelManager;
    private final Clip clip;

    private ClipEncoder(ClipConfig config, ClipTokenizer tokenizer, NDManager manager) {
        if (tokenizer.vocabSize() > config.vocabSize()) {
            tokenizer.close();
            throw new IllegalArgumentException("the tokenizer " + tokenizer.file() + " has " + tokenizer.vocabSize()
                    + " tokens but the CLIP config's vocab_size is " + config.vocabSize());
        }
        this.config = config;
        this.tokenizer = tokenizer;
        this.callerManager = manager;
        this.modelManager = manager.newSubManager();
        this.clip = new Clip(config);
        try {
            clip.initialize(modelManager, DataType.FLOAT32,
                    new Shape(1, config.imageChannels(), config.imageSize(), config.imageSize()),
                    new Shape(1, config.contextLength()), new Shape(1));
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /**
     * A freshly initialised, trainable CLIP whose text tower reads {@code tokenizerJson} (written by
     * {@link ClipTokenizer#writeWordLevel}); the config's vocab_size must cover the tokenizer's vocabulary.
     */
    public static ClipEncoder create(ClipConfig config, Path tokenizerJson, NDManager manager) throws IOException {
        DjlRuntime.configure();
        return new ClipEncoder(config, ClipTokenizer.load(tokenizerJson, config.contextLength()), manager);
    }

    /**
     * Loads a model directory (config.json, weights.safetensors, tokenizer.json) for inference: parameters
     * frozen (call {@link #setTrainable} to train on). A weights file that does not match the config fails
     * naming the mismatched parameters; a missing file is named.
     */
    public static ClipEncoder load(Path dir, NDManager manager) throws IOException {
        DjlRuntime.configure();
        for (String name : List.of(CONFIG_FILE, WEIGHTS_FILE, TOKENIZER_FILE)) {
            if (!Files.isRegularFile(dir.resolve(name))) {
                throw new NoSuchFileException(dir.resolve(name).toString(), null,
                        "the CLIP model directory " + dir + " has no " + name);
            }
        }
        ClipConfig config = ClipConfig.read(dir.resolve(CONFIG_FILE));
        ClipEncoder encoder = create(config, dir.resolve(TOKENIZER_FILE), manager);
        try {
            ModelWeights.load(encoder.clip, dir.resolve(WEIGHTS_FILE), "CLIP");
        } catch (IOException | RuntimeException e) {
            encoder.close();
            throw e;
        }
        encoder.setTrainable(false);
        return encoder;
    }

    /** Writes config.json, weights.safetensors and a copy of tokenizer.json into {@code dir}. */
    public void save(Path dir) throws IOException {
        Files.createDirectories(dir);
        config.write(dir.resolve(CONFIG_FILE));
        ModelWeights.save(clip, dir.resolve(WEIGHTS_FILE));
        Path target = dir.resolve(TOKENIZER_FILE);
        if (!Files.exists(target) || !Files.isSameFile(tokenizer.file(), target)) {
            Files.copy(tokenizer.file(), target, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** Unit text embeddings (N, dim), attached to the manager the encoder was created with. */
    public NDArray encodeText(List<String> prompts) {
        return encodeText(callerManager, prompts);
    }

    /** Unit text embeddings (N, dim), attached to {@code into}. */
    public NDArray encodeText(NDManager into, List<String> prompts) {
        if (prompts.isEmpty()) {
            return into.zeros(new Shape(0, dim()));
        }
        ClipTokenizer.Tokens tokens = tokenizer.encode(prompts);
        try (NDManager scope = into.newSubManager()) {
            NDArray ids = scope.create(tokens.ids());                                      // (N, T)
            NDArray eos = scope.create(toLongs(tokens.eosIndex()));                         // (N)
            NDArray embeddings = DjlRuntime.withoutGradients(() -> clip.text.forward(new ParameterStore(scope, false),
                    new NDList(ids, eos), false).singletonOrThrow());
            embeddings.attach(into);
            return embeddings;                                                             // (N, D)
        }
    }

    /** Unit image embeddings (N, dim) of images resized to the config's size, attached to the creation manager. */
    public NDArray encodeImages(List<BufferedImage> images) {
        return encodeImages(callerManager, images);
    }

    /** Unit image embeddings (N, dim), attached to {@code into}. */
    public NDArray encodeImages(NDManager into, List<BufferedImage> images) {
        if (images.isEmpty()) {
            return into.zeros(new Shape(0, dim()));
        }
        try (NDManager scope = into.newSubManager()) {
            NDArray pixels = ImageTensors.toTensor(scope, images, config.imageChannels(), config.imageSize());
            NDArray embeddings = encodeImageTensor(pixels);
            embeddings.attach(into);
            return embeddings;
        }
    }

    /** Unit image embeddings (B, dim) of images (B, C, H, W) in [−1, 1], attached to the images' manager. */
    public NDArray encodeImageTensor(NDArray images) {
        NDManager into = images.getManager();
        try (NDManager scope = into.newSubManager()) {
            images.tempAttach(scope); // intermediates follow the first operand's manager: keep them in the scope
            NDArray embeddings = DjlRuntime.withoutGradients(() -> clip.image.forward(
                    new ParameterStore(scope, false), new NDList(images), false).singletonOrThrow());
            embeddings.attach(into);
            return embeddings;                                                             // (B, D)
        }
    }

    /** Token ids and [EOS] positions of captions, for {@link #contrastiveLoss}. */
    public ClipTokenizer.Tokens tokenize(List<String> captions) {
        return tokenizer.encode(captions);
    }

    /**
     * CLIP's symmetric InfoNCE loss (Radford et al. 2021, figure 3) for a batch of matching pairs: with unit
     * embeddings I (B, D) and T (B, D) and the learned logit scale s = min(exp(t), 100),
     * logits = s · I Tᵀ and loss = (CE(logits, diag) + CE(logitsᵀ, diag)) / 2. Runs the towers in training mode;
     * call it inside a GradientCollector (weights trainable, see {@link #setTrainable}). Intermediates and the
     * scalar loss are allocated in the inputs' managers: create the inputs in the trainer's per-step scope.
     *
     * @param images (B, C, H, W) in [−1, 1]; row i is described by caption i
     */
    public NDArray contrastiveLoss(ParameterStore ps, NDArray images, ClipTokenizer.Tokens captions) {
        NDManager step = images.getManager();
        return contrastiveLoss(ps, images, step.create(captions.ids()), step.create(toLongs(captions.eosIndex())));
    }

    /**
     * As {@link #contrastiveLoss(ParameterStore, NDArray, ClipTokenizer.Tokens)} with token ids (B, T) int64 and
     * [EOS] positions (B) int64 as arrays.
     */
    public NDArray contrastiveLoss(ParameterStore ps, NDArray images, NDArray tokenIds, NDArray eosIndex) {
        long batch = images.getShape().get(0);
        if (tokenIds.getShape().get(0) != batch || eosIndex.getShape().get(0) != batch) {
            throw new IllegalArgumentException("contrastive loss needs one caption per image: " + batch
                    + " images, " + tokenIds.getShape().get(0) + " captions");
        }
        NDList out = clip.forward(ps, new NDList(images, tokenIds, eosIndex), true);
        NDArray imageEmbeddings = out.get(0);                                              // (B, D)
        NDArray textEmbeddings = out.get(1);                                               // (B, D)
        NDArray scale = out.get(2);                                                        // (1)
        NDArray logitsPerImage = imageEmbeddings.matMul(textEmbeddings.transpose()).mul(scale); // (B, B)
        NDArray labels = images.getManager().arange(0, (int) batch, 1, DataType.INT64);   // (B)
        NDArray imageLoss = crossEntropy(logitsPerImage, labels);
        NDArray textLoss = crossEntropy(logitsPerImage.transpose(), labels);
        return Differentiable.div(imageLoss.add(textLoss), 2f);                            // ()
    }

    /**
     * The contrastive loss with soft targets: {@code targets} (B, B) gives, per image row, the probability
     * that each caption of the batch is its match (rows sum to 1), and the same matrix serves the
     * caption→image direction. With the identity it is the plain loss; trainers use it when a batch holds
     * several captions that describe the same thing (class-labelled data), which plain InfoNCE would push
     * apart as negatives.
     */
    public NDArray contrastiveLoss(ParameterStore ps, NDArray images, ClipTokenizer.Tokens captions,
                                   NDArray targets) {
        NDManager step = images.getManager();
        NDArray tokenIds = step.create(captions.ids());
        NDArray eosIndex = step.create(toLongs(captions.eosIndex()));
        NDList out = clip.forward(ps, new NDList(images, tokenIds, eosIndex), true);
        NDArray logitsPerImage = out.get(0).matMul(out.get(1).transpose()).mul(out.get(2)); // (B, B)
        NDArray imageLoss = logitsPerImage.logSoftmax(1).mul(targets).sum(new int[] {1}).mean().neg();
        NDArray textTargets = targets.transpose();
        NDArray textSums = textTargets.sum(new int[] {1}, true);
        NDArray textLoss = logitsPerImage.transpose().logSoftmax(1).mul(textTargets.div(textSums))
                .sum(new int[] {1}).mean().neg();
        return Differentiable.div(imageLoss.add(textLoss), 2f);                            // ()
    }

    /** Mean over rows of −log softmax(logits)[row, label]. */
    private static NDArray crossEntropy(NDArray logits, NDArray labels) {
        NDArray logProbabilities = logits.logSoftmax(1);                                   // (B, B)
        return logProbabilities.gather(labels.reshape(-1, 1), 1).mean().neg();
    }

    /** Width of the joint embedding space. */
    public int dim() {
        return config.embeddingDim();
    }

    /** The current logit scale min(exp(t), 100), i.e. the inverse temperature. */
    public float logitScale() {
        return (float) Math.min(Math.exp(clip.logLogitScale.getArray().getFloat()), ClipConfig.MAX_LOGIT_SCALE);
    }

    /**
     * Marks the weights trainable (gradients recorded, optimisers update those whose
     * {@code Parameter.requiresGradient()} is true) or frozen for inference. BatchNorm running statistics
     * are never trained.
     */
    public void setTrainable(boolean trainable) {
        clip.freezeParameters(!trainable, p -> p.getType() != Parameter.Type.RUNNING_MEAN
                && p.getType() != Parameter.Type.RUNNING_VAR);
    }

    public ClipConfig config() {
        return config;
    }

    public ClipTokenizer tokenizer() {
        return tokenizer;
    }

    /**
     * The network (both towers and the logit scale) for trainers. A step: inside a GradientCollector
     * {@code backward(contrastiveLoss(..))}; then for each parameter with {@code requiresGradient()}
     * {@code optimizer.update(p.getId(), p.getArray(), gradient)} where {@code gradient = p.getArray().getGradient()}
     * is attached to the step's manager first (getGradient() makes a new handle in the model's manager on every
     * call, a leak otherwise). DJL's Adam zeroes the gradient after the update.
     */
    public Block block() {
        return clip;
    }

    @Override
    public void close() {
        tokenizer.close();
        modelManager.close();
    }

    private static long[] toLongs(int[] values) {
        long[] longs = new long[values.length];
        for (int i = 0; i < values.length; i++) {
            longs[i] = values[i];
        }
        return longs;
    }

    /**
     * The trainable whole: inputs images (B, C, H, W), token ids (B, T), [EOS] positions (B); outputs image
     * embeddings (B, D), text embeddings (B, D) and the clamped logit scale (1).
     */
    private static final class Clip extends AbstractBlock {

        private final ClipImageTower image;
        private final ClipTextTower text;
        private final Parameter logLogitScale;

        Clip(ClipConfig config) {
            super((byte) 1);
            image = addChildBlock("image", new ClipImageTower(config));
            text = addChildBlock("text", new ClipTextTower(config));
            logLogitScale = addParameter(Parameter.builder().setName("log_logit_scale")
                    .setType(Parameter.Type.OTHER)
                    .optInitializer(new ConstantInitializer((float) config.initLogLogitScale()))
                    .optShape(new Shape(1)).build());
        }

        @Override
        protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training,
                                         PairList<String, Object> params) {
            NDArray images = inputs.get(0);
            NDArray imageEmbeddings = image.forward(ps, new NDList(images), training).singletonOrThrow();
            NDArray textEmbeddings = text.forward(ps, new NDList(inputs.get(1), inputs.get(2)), training)
                    .singletonOrThrow();
            NDArray t = ps.getValue(logLogitScale, images.getDevice(), training);
            // start from an activation-side array so the result lives in the step's manager, not the model's
            NDArray scale = Differentiable.minimum(images.getManager().zeros(new Shape(1)).add(t),
                    (float) Math.log(ClipConfig.MAX_LOGIT_SCALE)).exp();                   // (1)
            return new NDList(imageEmbeddings, textEmbeddings, scale);
        }

        @Override
        public Shape[] getOutputShapes(Shape[] inputShapes) {
            Shape embeddings = image.getOutputShapes(new Shape[] {inputShapes[0]})[0];
            return new Shape[] {embeddings, embeddings, new Shape(1)};
        }

        @Override
        protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
            image.initialize(manager, dataType, inputShapes[0]);
            text.initialize(manager, dataType, inputShapes[1], inputShapes[2]);
        }
    }
}
