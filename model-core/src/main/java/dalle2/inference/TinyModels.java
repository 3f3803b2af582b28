package dalle2.inference;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import dalle2.djl.DjlRuntime;
import dalle2.models.ClipConfig;
import dalle2.models.ClipEncoder;
import dalle2.models.ClipTokenizer;
import dalle2.models.Decoder;
import dalle2.models.DecoderConfig;
import dalle2.models.Prior;
import dalle2.models.PriorConfig;
import dalle2.models.Upsampler;
import dalle2.models.UpsamplerConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A real models folder ({@code clip/}, {@code prior/}, {@code decoder/}) with tiny, freshly initialised networks:
 * the pipeline tests and {@code dalle2 bench-pipeline --tiny} run the same loading and sampling code as
 * production, only smaller and untrained. Seeded, so the same call writes the same weights.
 */
public final class TinyModels {

    /** Width and height of the images the tiny decoder draws. */
    public static final int IMAGE_SIZE = 32;

    private TinyModels() {
    }

    /**
     * A 32 → 256 px upsampler small enough for pipeline tests: 8 base channels, two DDIM steps (a random network
     * takes ~0.1–0.3 s a step per 256 px image on a CPU core), no augmentation.
     */
    public static UpsamplerConfig upsamplerConfig() {
        return UpsamplerConfig.of(IMAGE_SIZE, 256, 8, List.of(1, 2, 4, 8), 1).withSampling(0, 2);
    }

    /** The three tiny models and the tiny upsampler ({@link #upsamplerConfig()}) in {@code dir}. */
    public static Path writeWithUpsampler(Path dir) {
        write(dir);
        DjlRuntime.configure();
        try (NDManager manager = DjlRuntime.newManager()) {
            Upsampler.create(upsamplerConfig(), manager, 3).save(dir.resolve(DallE2.UPSAMPLER_DIR));
        }
        return dir;
    }

    /** Writes the three tiny models into {@code dir} (created if needed) and returns it. */
    public static Path write(Path dir) {
        DjlRuntime.configure();
        try {
            Files.createDirectories(dir);
            Path tokenizer = dir.resolve("tokenizer.json");
            ClipTokenizer.writeWordLevel(List.of("a photo of a cat", "a red apple", "a photo of a sneaker",
                    "grinning face", "dog face"), 1, tokenizer);
            int vocab;
            try (ClipTokenizer loaded = ClipTokenizer.load(tokenizer, ClipConfig.tiny().contextLength())) {
                vocab = loaded.vocabSize();
            }
            try (NDManager manager = DjlRuntime.newManager()) {
                Engine.getInstance().setRandomSeed(3);
                ClipEncoder clip = ClipEncoder.create(ClipConfig.tiny().withVocabSize(vocab), tokenizer, manager);
                clip.save(dir.resolve(DallE2.CLIP_DIR));
                Prior.create(PriorConfig.of(clip.dim(), 32, 2, 4), manager).save(dir.resolve(DallE2.PRIOR_DIR));
                Decoder.create(DecoderConfig.tiny().withConditionDim(clip.dim()), manager, 3)
                        .save(dir.resolve(DallE2.DECODER_DIR));
                clip.close();
            }
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
