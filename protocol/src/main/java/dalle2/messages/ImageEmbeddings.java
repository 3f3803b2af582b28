package dalle2.messages;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The prior's output for one job, on the embeddings topic (key = job id): one predicted CLIP image embedding per
 * requested image, each float32 vector carried exactly as base64 of little-endian bytes ({@link Float32}). The
 * request travels along, so the decoder needs nothing else to draw the job.
 *
 * @param embeddings        {@code request.n} vectors of {@code dim} floats each, all finite
 * @param priorModelVersion the version of the prior (and CLIP text encoder) that made them
 */
public record ImageEmbeddings(
        Integer schemaVersion,
        String jobId,
        GenerationRequest request,
        String priorModelVersion,
        Integer dim,
        List<String> embeddings,
        String priorStartedAt,
        String priorFinishedAt) {

    public ImageEmbeddings {
        schemaVersion = SchemaVersions.check(schemaVersion);
        InvalidMessageException.require(request != null, "request", "request is required");
        request = request.withoutImage();
        InvalidMessageException.require(jobId != null && jobId.equals(request.jobId()), "job_id",
                "job_id must equal request.job_id");
        InvalidMessageException.require(priorModelVersion != null && !priorModelVersion.isEmpty(),
                "prior_model_version", "prior_model_version is required");
        InvalidMessageException.require(dim != null && dim > 0, "dim", "dim must be positive");
        InvalidMessageException.require(embeddings != null && embeddings.size() == request.n(), "embeddings",
                "expected " + request.n() + " embeddings, got " + (embeddings == null ? 0 : embeddings.size()));
        for (int k = 0; k < embeddings.size(); k++) {
            float[] vector;
            try {
                vector = Float32.decode(embeddings.get(k));
            } catch (IllegalArgumentException | NullPointerException e) {
                throw new InvalidMessageException("embeddings", "embedding " + k + " is not base64 float32: " + e.getMessage());
            }
            InvalidMessageException.require(vector.length == dim, "embeddings",
                    "embedding " + k + " has " + vector.length + " values, dim is " + dim);
            for (float v : vector) {
                InvalidMessageException.require(Float.isFinite(v), "embeddings", "embedding " + k + " is not finite");
            }
        }
        embeddings = List.copyOf(embeddings);
        GenerationRequest.checkInstant(priorStartedAt, "prior_started_at");
        GenerationRequest.checkInstant(priorFinishedAt, "prior_finished_at");
    }

    public static ImageEmbeddings of(GenerationRequest request, String priorModelVersion, List<float[]> vectors,
                                     Instant priorStartedAt, Instant priorFinishedAt) {
        if (vectors.isEmpty()) {
            throw new InvalidMessageException("embeddings", "no embeddings");
        }
        List<String> encoded = new ArrayList<>(vectors.size());
        for (float[] v : vectors) {
            encoded.add(Float32.encode(v));
        }
        return new ImageEmbeddings(SchemaVersions.CURRENT, request.jobId(), request, priorModelVersion,
                vectors.get(0).length, encoded, priorStartedAt.toString(), priorFinishedAt.toString());
    }

    /** Embedding of image {@code k}, decoded. */
    public float[] embedding(int k) {
        return Float32.decode(embeddings.get(k));
    }
}
