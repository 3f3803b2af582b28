package dalle2.cli.cluster;

import dalle2.inference.DallE2;
import dalle2.messages.ApiDefaults;
import dalle2.messages.SamplingParams;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;

/**
 * The images a fault-free pipeline draws for a job, computed in this process with {@link DallE2#generate} at the
 * job's settings: image k of a job depends only on its prompt, parameters, seed and k, whatever it was batched with.
 */
public final class ReferenceImages implements AutoCloseable {

    private final Path models;
    private final java.util.Map<JobSpec, List<BufferedImage>> cache = new java.util.HashMap<>();
    private DallE2 dalle2;

    public ReferenceImages(Path models) {
        this.models = models;
    }

    public synchronized List<BufferedImage> of(JobSpec spec) {
        return cache.computeIfAbsent(spec.withoutKey(), this::generate);
    }

    private List<BufferedImage> generate(JobSpec spec) {
        if (dalle2 == null) {
            try {
                dalle2 = DallE2.load(models);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot load the models in " + models, e);
            }
        }
        // the job's body names no sampler: each stage samples with what the API defaults it to
        return dalle2.generate(Collections.nCopies(spec.n(), spec.prompt()), spec.seed(),
                new SamplingParams(spec.priorSteps(), 0f, (float) spec.priorGuidance(), ApiDefaults.PRIOR_SAMPLER),
                new SamplingParams(spec.decoderSteps(), 0f, (float) spec.decoderGuidance(), ApiDefaults.DECODER_SAMPLER));
    }

    /** The largest difference of one colour channel of one pixel (Integer.MAX_VALUE when the sizes differ). */
    public static int maxChannelDifference(BufferedImage a, BufferedImage b) {
        if (a.getWidth() != b.getWidth() || a.getHeight() != b.getHeight()) {
            return Integer.MAX_VALUE;
        }
        int max = 0;
        for (int y = 0; y < a.getHeight(); y++) {
            for (int x = 0; x < a.getWidth(); x++) {
                int p = a.getRGB(x, y);
                int q = b.getRGB(x, y);
                for (int shift = 0; shift < 32; shift += 8) {
                    max = Math.max(max, Math.abs(((p >>> shift) & 0xff) - ((q >>> shift) & 0xff)));
                }
            }
        }
        return max;
    }

    @Override
    public synchronized void close() {
        if (dalle2 != null) {
            dalle2.close();
        }
    }
}
