package dalle2.messages;

import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * The decoder's output for a job larger than the base size, on the low-resolution topic (key = job id): the job's
 * base images, which the upsampler pool turns into the final ones. The request, the model versions and the
 * timestamps so far travel along, so the upsampler needs nothing else to finish the job and write its status.
 *
 * <p>Each image is base64 of {@code size × size × 3} bytes, 8-bit RGB, row by row: exactly the pixels the base
 * decoder's PNG holds for a job of the base size, so a job's base image is the same whatever size it asks for,
 * and a quarter of the bytes float32 would take.
 *
 * @param models     model versions by role so far ("prior", "decoder")
 * @param timestamps the job's timestamps when the decoder finished
 * @param size       side of the base images; below {@code request.size}
 * @param images     {@code request.n} images
 */
public record LowResImages(
        Integer schemaVersion,
        String jobId,
        GenerationRequest request,
        Map<String, String> models,
        JobStatus.Timestamps timestamps,
        Integer size,
        List<String> images) {

    /** Bytes per pixel: R, G, B. */
    public static final int CHANNELS = 3;

    public LowResImages {
        schemaVersion = SchemaVersions.check(schemaVersion);
        InvalidMessageException.require(request != null, "request", "request is required");
        InvalidMessageException.require(jobId != null && jobId.equals(request.jobId()), "job_id",
                "job_id must equal request.job_id");
        models = models == null ? Map.of() : Map.copyOf(models);
        InvalidMessageException.require(timestamps != null, "timestamps", "timestamps are required");
        InvalidMessageException.require(size != null && size > 0, "size", "size must be positive");
        InvalidMessageException.require(size < request.size(), "size",
                "the base images (" + size + " px) must be smaller than the job's size " + request.size());
        InvalidMessageException.require(images != null && images.size() == request.n(), "images",
                "expected " + request.n() + " images, got " + (images == null ? 0 : images.size()));
        int bytes = size * size * CHANNELS;
        for (int k = 0; k < images.size(); k++) {
            byte[] pixels;
            try {
                pixels = Base64.getDecoder().decode(images.get(k));
            } catch (IllegalArgumentException | NullPointerException e) {
                throw new InvalidMessageException("images", "image " + k + " is not base64: " + e.getMessage());
            }
            InvalidMessageException.require(pixels.length == bytes, "images",
                    "image " + k + " has " + pixels.length + " bytes; " + size + "×" + size + " RGB is " + bytes);
        }
        images = List.copyOf(images);
    }

    /** The message for a job's base images, each {@code size × size × 3} RGB bytes. */
    public static LowResImages of(GenerationRequest request, Map<String, String> models,
                                  JobStatus.Timestamps timestamps, int size, List<byte[]> rgb) {
        List<String> encoded = new ArrayList<>(rgb.size());
        for (byte[] pixels : rgb) {
            encoded.add(Base64.getEncoder().encodeToString(pixels));
        }
        return new LowResImages(SchemaVersions.CURRENT, request.jobId(), request, models, timestamps, size, encoded);
    }

    /** Image {@code k}'s RGB bytes, decoded. */
    public byte[] rgb(int k) {
        return Base64.getDecoder().decode(images.get(k));
    }
}
