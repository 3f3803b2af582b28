package dalle2.inference;

import dalle2.messages.LowResImages;
import dalle2.sampling.NoiseStreams;

/**
 * One image's worth of upsampler work: its base image, the side the job asks for and the image's own seed.
 *
 * @param rgb  the base image, {@code lowResSize × lowResSize × 3} bytes ({@link LowResImages})
 * @param size the side of the final image: the upsampler's own, or an area average of it
 * @param seed {@code NoiseStreams.seedFor(jobSeed, index, "upsampler")}: the upsampler's noise stream of this image
 */
public record UpsampleTask(String jobId, int index, byte[] rgb, int lowResSize, int size, long seed) {

    /** The NoiseStreams stage name of the upsampler. */
    public static final String STAGE = "upsampler";

    /** The task of image {@code index} of a job. */
    public static UpsampleTask of(LowResImages message, int index) {
        return new UpsampleTask(message.jobId(), index, message.rgb(index), message.size(), message.request().size(),
                NoiseStreams.seedFor(message.request().seed(), index, STAGE));
    }
}
