package dalle2.ops;

import dalle2.pipeline.StageWorker;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.LinkedHashMap;
import java.util.Map;

/** A pool's {@link StageWorker} as the ops endpoints see it. */
public record StageWorkerWatch(StageWorker<?, ?, ?, ?> worker) implements WatchedWorker {

    @Override
    public String workerId() {
        return worker.workerId();
    }

    @Override
    public String group() {
        return worker.group();
    }

    @Override
    public String inputTopic() {
        return worker.inputTopic();
    }

    /** Its poll and model threads run. */
    @Override
    public Map<String, String> livenessChecks() {
        Map<String, String> checks = new LinkedHashMap<>();
        checks.put(workerId() + ".poll_thread", worker.pollThreadAlive() ? "ok" : "stopped");
        checks.put(workerId() + ".model_thread", worker.modelThreadAlive() ? "ok" : "stopped");
        return checks;
    }

    /**
     * Its threads run, its poll loop is not restarting, its status view has caught up (so cancellations are
     * known) and no dead letter or failure status waits to be written.
     */
    @Override
    public Map<String, String> readinessChecks() {
        Map<String, String> checks = new LinkedHashMap<>();
        checks.put(workerId() + ".threads", worker.pollThreadAlive() && worker.modelThreadAlive() ? "ok" : "stopped");
        checks.put(workerId() + ".poll_loop", worker.polling() ? "ok" : "restarting");
        checks.put(workerId() + ".status_view", worker.statusView().healthy() ? "ok"
                : worker.statusView().isCaughtUp() ? "restarting" : "catching_up");
        checks.put(workerId() + ".reports", worker.stalledReports() == 0 ? "ok"
                : "retrying " + worker.stalledReports() + " unwritten dead letters or failure statuses");
        return checks;
    }

    @Override
    public int assignedPartitions() {
        return worker.assignedPartitions();
    }

    @Override
    public void bindMeters(MeterRegistry registry) {
        WorkerMetrics.bind(registry, worker);
    }

    @Override
    public void beforeScrape(MeterRegistry registry) {
        WorkerMetrics.registerServedVersions(registry, worker);
    }
}
