package dalle2.cli;

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
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A real models folder (clip/, prior/, decoder/) with tiny, freshly initialised networks: the pipeline tests
 * run the same loading and sampling code as production, only smaller and untrained.
 */
final class TinyModels {

    static final int IMAGE_SIZE = 32;
    private static Path folder;

    private TinyModels() {
    }

    static synchronized Path folder() {
        if (folder != null) {
            return folder;
        }
        DjlRuntime.configure();
        try {
            Path dir = Files.createTempDirectory("dalle2-tiny-models");
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
                clip.save(dir.resolve("clip"));
                Prior.create(PriorConfig.of(clip.dim(), 32, 2, 4), manager).save(dir.resolve("prior"));
                Decoder.create(DecoderConfig.tiny().withConditionDim(clip.dim()), manager, 3).save(dir.resolve("decoder"));
                clip.close();
            }
            folder = dir;
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
