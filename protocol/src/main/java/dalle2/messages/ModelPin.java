package dalle2.messages;

import java.time.Instant;

/**
 * Which version a pool runs, on the {@code models} topic (key {@code pin/<role>}); the last pin of a role wins,
 * and setting the previous one again is the rollback.
 *
 * @param stable        {@value #LATEST} (the role's most recently published version) or a version
 * @param canary        a version that takes a share of new jobs beside the stable one, or null
 * @param canaryPercent the share of new jobs (0–100) the canary makes, chosen by job id so that a job's retries
 *                      and redeliveries meet the same version while the pin stands
 */
public record ModelPin(Integer schemaVersion, String role, String stable, String canary, Integer canaryPercent,
                       String updatedAt) {

    public static final String LATEST = "latest";

    public ModelPin {
        schemaVersion = SchemaVersions.check(schemaVersion);
        ModelManifest.requireRole(role);
        InvalidMessageException.require(stable != null && (stable.equals(LATEST) || ModelVersion.roleOf(stable).equals(role)),
                "stable", "stable must be 'latest' or a " + role + " version, got '" + stable + "'");
        InvalidMessageException.require(canary == null || ModelVersion.roleOf(canary).equals(role), "canary",
                "canary must be a " + role + " version, got '" + canary + "'");
        canaryPercent = canaryPercent == null ? 0 : canaryPercent;
        InvalidMessageException.require(canaryPercent >= 0 && canaryPercent <= 100, "canary_percent",
                "canary_percent must be in [0, 100], got " + canaryPercent);
        InvalidMessageException.require(canary != null || canaryPercent == 0, "canary_percent",
                "canary_percent needs a canary version");
        GenerationRequest.checkInstant(updatedAt, "updated_at");
    }

    public static ModelPin of(String role, String stable, String canary, int canaryPercent, Instant at) {
        return new ModelPin(SchemaVersions.CURRENT, role, stable, canary, canaryPercent, at.toString());
    }

    /** Whether this job (by id) goes to the canary. The same id always gets the same answer under one pin. */
    public boolean routesToCanary(String jobId) {
        return canary != null && Math.floorMod(jobId.hashCode() * 0x9E3779B1, 100) < canaryPercent;
    }
}
