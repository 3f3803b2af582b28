package dalle2.sampling;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.Random;

/**
 * One Gaussian random stream per sample of a batch.
 *
 * <p>Each sample draws its noise from its own {@link Random} seeded from the job, so a sample's result
 * never depends on what else was in its batch (a decoder worker batches images of different jobs). The
 * engine's global generator could not promise that. {@link Random#nextGaussian()} is specified exactly by
 * the JDK, so the same seed gives the same noise on every JVM.
 */
public final class NoiseStreams {

    private final Random[] streams;

    public NoiseStreams(long[] seeds) {
        if (seeds.length == 0) {
            throw new IllegalArgumentException("at least one seed is needed");
        }
        streams = new Random[seeds.length];
        for (int i = 0; i < seeds.length; i++) {
            streams[i] = new Random(seeds[i]);
        }
    }

    /** Derives the seed of image {@code index} of a job, for a given stage (prior and decoder differ). */
    public static long seedFor(long jobSeed, int index, String stage) {
        long h = jobSeed * 0x9E3779B97F4A7C15L + index;
        h ^= stage.hashCode() * 0xC2B2AE3D27D4EB4FL;
        h ^= h >>> 31;
        h *= 0xBF58476D1CE4E5B9L;
        h ^= h >>> 29;
        return h;
    }

    public int size() {
        return streams.length;
    }

    /** Draws the next ε ~ N(0, I) of every stream: shape (B, sampleShape…). */
    public NDArray next(NDManager manager, Shape sampleShape) {
        int perSample = Math.toIntExact(sampleShape.size());
        float[] values = new float[perSample * streams.length];
        for (int b = 0; b < streams.length; b++) {
            Random random = streams[b];
            int offset = b * perSample;
            for (int i = 0; i < perSample; i++) {
                values[offset + i] = (float) random.nextGaussian();
            }
        }
        return manager.create(values, new Shape(streams.length).addAll(sampleShape));
    }
}
