package dalle2.messages;

import java.util.Map;
import java.util.Set;

/**
 * A published model version: what lies under {@code models/<role>/<version>/} in object storage and what the
 * {@code models} topic announces. Written last, after every file it lists, so a manifest that can be read names
 * a complete version.
 *
 * @param files      every stored file (model files and documents) by name, with its SHA-256 and size; a reader
 *                   verifies each before loading
 * @param lineage    the CLIP the model works in and the version it was trained from
 * @param trainingId the training job that made it, or null for an upload
 * @param evaluation the figures its training reported (name → value), possibly empty
 */
public record ModelManifest(
        Integer schemaVersion,
        String role,
        String version,
        String createdAt,
        Map<String, StoredFile> files,
        ModelLineage lineage,
        String trainingId,
        Map<String, Double> evaluation) {

    /** The roles a model can have, one per kind of worker that loads it. */
    public static final Set<String> ROLES = Set.of("clip", "prior", "decoder", "upsampler");

    public record StoredFile(String sha256, long size) {
        public StoredFile {
            InvalidMessageException.require(sha256 != null && sha256.matches("[0-9a-f]{64}"), "files.sha256",
                    "sha256 must be 64 lower-case hex digits");
            InvalidMessageException.require(size >= 0, "files.size", "size must be >= 0");
        }
    }

    public ModelManifest {
        schemaVersion = SchemaVersions.check(schemaVersion);
        requireRole(role);
        InvalidMessageException.require(version != null && ModelVersion.roleOf(version).equals(role), "version",
                "version must be " + role + "@<digest>, got '" + version + "'");
        GenerationRequest.checkInstant(createdAt, "created_at");
        InvalidMessageException.require(createdAt != null, "created_at", "created_at is required");
        InvalidMessageException.require(files != null && files.containsKey("weights.safetensors"), "files",
                "a model version holds weights.safetensors");
        files = Map.copyOf(files);
        lineage = lineage == null ? new ModelLineage(null, null) : lineage;
        evaluation = evaluation == null ? Map.of() : Map.copyOf(evaluation);
    }

    /** Checks a role name, naming the accepted ones. */
    public static String requireRole(String role) {
        InvalidMessageException.require(role != null && ROLES.contains(role), "role",
                "role must be one of clip, prior, decoder, upsampler, got '" + role + "'");
        return role;
    }
}
