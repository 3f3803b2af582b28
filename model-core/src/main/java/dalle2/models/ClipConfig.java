package dalle2.models;

import dalle2.json.Json;
import java.nio.file.Path;
import java.util.List;

/**
 * The architecture of the project's CLIP (Radford et al. 2021): a causal text transformer and a small
 * ResNet image tower, both projected into a shared {@code embeddingDim}-dimensional space of unit vectors.
 * Written as {@code config.json} beside {@code weights.safetensors} and {@code tokenizer.json}.
 *
 * @param modelType        always {@value #MODEL_TYPE}
 * @param formatVersion    version of this file's layout, {@value #FORMAT_VERSION}
 * @param embeddingDim     width of the joint embedding space (CLIP: 512; the prior and decoder condition on it)
 * @param contextLength    tokens per caption, [BOS] and [EOS] included; longer captions are truncated
 * @param vocabSize        rows of the token embedding; at least the tokenizer's vocabulary
 * @param textWidth        width of the text transformer
 * @param textDepth        number of text transformer blocks
 * @param textHeads        attention heads per block
 * @param imageSize        side of the square input images in pixels
 * @param imageChannels    3 for RGB (grey images are given as three equal channels)
 * @param imageWidths      channels of the ResNet stages; each stage after the first halves the resolution
 * @param imageBlocks      residual blocks per stage
 * @param initTemperature  initial softmax temperature τ of the contrastive loss; the learned logit scale
 *                         starts at ln(1/τ) and its exponential is clamped at {@value #MAX_LOGIT_SCALE}
 */
public record ClipConfig(
        String modelType,
        int formatVersion,
        int embeddingDim,
        int contextLength,
        int vocabSize,
        int textWidth,
        int textDepth,
        int textHeads,
        int imageSize,
        int imageChannels,
        List<Integer> imageWidths,
        int imageBlocks,
        double initTemperature) {

    public static final String MODEL_TYPE = "clip";
    public static final int FORMAT_VERSION = 1;
    /** CLIP clips the learned logit scale exp(s) at 100 "to prevent scaling the logits by more than 100". */
    public static final double MAX_LOGIT_SCALE = 100.0;
    /** CLIP's initial temperature. */
    public static final double CLIP_TEMPERATURE = 0.07;
    /** Hidden width of each transformer MLP as a multiple of the text width (GPT-2, CLIP). */
    public static final int TEXT_MLP_RATIO = 4;
    /** Special tokens: [PAD] [UNK] [BOS] [EOS]. */
    public static final int SPECIAL_TOKENS = 4;

    public ClipConfig {
        require(MODEL_TYPE.equals(modelType), "model_type must be \"" + MODEL_TYPE + "\", got " + modelType);
        require(formatVersion == FORMAT_VERSION,
                "format_version " + formatVersion + " is not supported (this build reads " + FORMAT_VERSION + ")");
        require(embeddingDim >= 1, "embedding_dim must be >= 1, got " + embeddingDim);
        require(contextLength >= 3, "context_length must be >= 3 ([BOS] word [EOS]), got " + contextLength);
        require(vocabSize > SPECIAL_TOKENS, "vocab_size must be > " + SPECIAL_TOKENS + ", got " + vocabSize);
        require(textWidth >= 1 && textDepth >= 1 && textHeads >= 1,
                "text_width, text_depth and text_heads must be >= 1, got "
                        + textWidth + ", " + textDepth + ", " + textHeads);
        require(textWidth % textHeads == 0, "text_width " + textWidth + " is not divisible by text_heads " + textHeads);
        require(imageChannels == 1 || imageChannels == 3, "image_channels must be 1 or 3, got " + imageChannels);
        require(imageWidths != null && !imageWidths.isEmpty(), "image_widths must name at least one stage");
        imageWidths = List.copyOf(imageWidths);
        for (int width : imageWidths) {
            require(width >= 1, "image_widths must be >= 1, got " + imageWidths);
        }
        require(imageBlocks >= 1, "image_blocks must be >= 1, got " + imageBlocks);
        int downsampling = 1 << (imageWidths.size() - 1);
        require(imageSize >= downsampling && imageSize % downsampling == 0,
                "image_size " + imageSize + " must be a multiple of " + downsampling + " for "
                        + imageWidths.size() + " stages");
        require(initTemperature >= 1 / MAX_LOGIT_SCALE && initTemperature <= 1,
                "init_temperature must lie in [0.01, 1], got " + initTemperature);
    }

    /** A few thousand parameters: for unit tests. */
    public static ClipConfig tiny() {
        return new ClipConfig(MODEL_TYPE, FORMAT_VERSION, 32, 8, 64, 32, 1, 2, 16, 3,
                List.of(16, 32), 1, CLIP_TEMPERATURE);
    }

    /**
     * A CLIP for training on two CPU cores (5.0 M parameters with a 2,000-word vocabulary; about 1.2 s of one
     * core's CPU time per training step at batch 64): 32×32 RGB images, captions of up to 14 tokens (words
     * and punctuation) between [BOS] and [EOS], a 256-dimensional joint space. Set the vocabulary size to
     * the tokenizer's with {@link #withVocabSize}.
     */
    public static ClipConfig small() {
        return new ClipConfig(MODEL_TYPE, FORMAT_VERSION, 256, 16, 4096, 256, 4, 4, 32, 3,
                List.of(32, 64, 128, 256), 1, CLIP_TEMPERATURE);
    }

    public ClipConfig withVocabSize(int size) {
        return new ClipConfig(modelType, formatVersion, embeddingDim, contextLength, size, textWidth, textDepth,
                textHeads, imageSize, imageChannels, imageWidths, imageBlocks, initTemperature);
    }

    public ClipConfig withEmbeddingDim(int dim) {
        return new ClipConfig(modelType, formatVersion, dim, contextLength, vocabSize, textWidth, textDepth,
                textHeads, imageSize, imageChannels, imageWidths, imageBlocks, initTemperature);
    }

    public ClipConfig withContextLength(int length) {
        return new ClipConfig(modelType, formatVersion, embeddingDim, length, vocabSize, textWidth, textDepth,
                textHeads, imageSize, imageChannels, imageWidths, imageBlocks, initTemperature);
    }

    /** The initial value of the learned log logit scale, ln(1/τ). */
    public double initLogLogitScale() {
        return Math.log(1 / initTemperature);
    }

    public static ClipConfig read(Path file) {
        return Json.readFile(file, ClipConfig.class);
    }

    public void write(Path file) {
        Json.writeFile(file, this);
    }

    private static void require(boolean condition, String message) {
        if (!condition) {
            throw new IllegalArgumentException("CLIP config: " + message);
        }
    }
}
