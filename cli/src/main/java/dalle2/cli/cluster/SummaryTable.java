package dalle2.cli.cluster;

import java.util.List;
import java.util.stream.Collectors;

/** The results as a Markdown table, one row per run. */
public final class SummaryTable {

    private SummaryTable() {
    }

    public static String of(List<ScenarioResult> results) {
        StringBuilder out = new StringBuilder();
        out.append("| scenario | submitted | accepted | succeeded | failed (reason) | lost | stuck | duplicates "
                + "| orphans | pixel mismatches (max diff) | heal: first job after fault | heal: all done "
                + "| p50 / p99 latency | verdict |\n");
        out.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        for (ScenarioResult r : results) {
            String failed = r.failed() == 0 ? "0" : r.failed() + " (" + r.failedByReason().entrySet().stream()
                    .map(e -> e.getKey() + " " + e.getValue()).collect(Collectors.joining(", ")) + ")";
            String heal = r.healFirstMs().isEmpty() ? "-" : r.healFirstMs().stream()
                    .map(ms -> ms < 0 ? "none" : seconds(ms)).collect(Collectors.joining(", "));
            out.append("| ").append(r.scenario())
                    .append(" | ").append(r.submitted())
                    .append(" | ").append(r.accepted())
                    .append(" | ").append(r.succeeded())
                    .append(" | ").append(failed)
                    .append(" | ").append(r.lost())
                    .append(" | ").append(r.stuck().size())
                    .append(" | ").append(r.duplicates())
                    .append(" | ").append(r.orphans())
                    .append(" | ").append(r.pixelMismatches()).append(" (").append(r.maxPixelDifference()).append(")")
                    .append(" | ").append(heal)
                    .append(" | ").append(r.healAllMs() < 0 ? "-" : seconds(r.healAllMs()))
                    .append(" | ").append(r.p50LatencyMs() < 0 ? "-" : seconds(r.p50LatencyMs()) + " / "
                            + seconds(r.p99LatencyMs()))
                    .append(" | ").append(r.broken() ? "BROKEN" : "kept").append(" |\n");
        }
        return out.toString();
    }

    private static String seconds(long ms) {
        return String.format(java.util.Locale.ROOT, "%.1f s", ms / 1000.0);
    }
}
