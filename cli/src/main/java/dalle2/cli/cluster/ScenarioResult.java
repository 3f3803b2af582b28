package dalle2.cli.cluster;

import java.util.List;
import java.util.Map;

/**
 * What one run measured against the promises: every accepted job succeeded, its images equal the fault-free
 * ones, nothing lost, duplicated, stuck or left over in the bucket.
 *
 * @param failedByReason failed jobs by error code ({@code "none"} when a failed job gave no reason)
 * @param healFirstMs    from each fault to the first job finished after it (-1: none finished)
 * @param healAllMs      from the first fault to the last job finished (-1: no fault or none finished)
 */
public record ScenarioResult(String scenario, int submitted, int accepted, int succeeded,
                             Map<String, Integer> failedByReason, int lost, List<String> stuck, int duplicates,
                             int orphans, int pixelMismatches, int maxPixelDifference, List<Long> healFirstMs,
                             long healAllMs, long p50LatencyMs, long p99LatencyMs, List<String> problems) {

    /** Pixels within this many PNG levels count as equal: the documented batch-independence tolerance. */
    public static final int PIXEL_TOLERANCE = 1;

    public int failed() {
        return failedByReason.values().stream().mapToInt(Integer::intValue).sum();
    }

    /** True when a promise was broken. */
    public boolean broken() {
        return accepted != submitted || succeeded != accepted || lost > 0 || !stuck.isEmpty() || duplicates > 0
                || orphans > 0 || pixelMismatches > 0 || !problems.isEmpty();
    }
}
