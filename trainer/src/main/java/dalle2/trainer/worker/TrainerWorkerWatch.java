package dalle2.trainer.worker;

import dalle2.kafka.Topics;
import dalle2.messages.TrainingStatus;
import dalle2.ops.WatchedWorker;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.ToDoubleFunction;

/**
 * A {@link TrainerWorker} as the ops endpoints see it: alive while its poll thread runs, ready once its training
 * status view has caught up, and metrics for its jobs and the run in progress. The series carry the labels
 * {@code pool="trainer"} and {@code worker}, as a pool's do.
 */
public record TrainerWorkerWatch(TrainerWorker worker) implements WatchedWorker {

    @Override
    public String workerId() {
        return worker.workerId();
    }

    @Override
    public String group() {
        return Topics.TRAINER_GROUP;
    }

    @Override
    public String inputTopic() {
        return Topics.TRAINING_JOBS;
    }

    @Override
    public Map<String, String> livenessChecks() {
        return Map.of(workerId() + ".poll_thread", worker.pollThreadAlive() ? "ok" : "stopped");
    }

    @Override
    public Map<String, String> readinessChecks() {
        Map<String, String> checks = new LinkedHashMap<>();
        checks.put(workerId() + ".poll_thread", worker.pollThreadAlive() ? "ok" : "stopped");
        checks.put(workerId() + ".status_view", worker.statusView().healthy() ? "ok" : "catching_up");
        return checks;
    }

    @Override
    public int assignedPartitions() {
        return worker.assignedPartitions();
    }

    @Override
    public void bindMeters(MeterRegistry registry) {
        Tags tags = Tags.of("pool", Topics.TRAINER_GROUP, "worker", workerId());
        counter(registry, tags, "dalle2.trainer.jobs.taken", "training job records taken from the topic",
                w -> w.stats().taken());
        String jobs = "training jobs this worker let go of, by outcome (finished: succeeded or failed for good; "
                + "handed_over: stopped at a checkpoint for another worker; skipped: already finished)";
        counter(registry, tags.and("outcome", "finished"), "dalle2.trainer.jobs", jobs, w -> w.stats().finished());
        counter(registry, tags.and("outcome", "handed_over"), "dalle2.trainer.jobs", jobs,
                w -> w.stats().handedOver());
        counter(registry, tags.and("outcome", "skipped"), "dalle2.trainer.jobs", jobs, w -> w.stats().skipped());
        gauge(registry, tags, "dalle2.trainer.busy", "1 while a training runs on this worker",
                w -> w.currentTraining() == null ? 0 : 1);
        gauge(registry, tags, "dalle2.trainer.assigned.partitions", "training job partitions this worker owns",
                TrainerWorker::assignedPartitions);
        gauge(registry, tags, "dalle2.trainer.step", "optimizer steps done by the training in progress (0 when idle)",
                w -> current(w).map(TrainingStatus::step).orElse(0L));
        gauge(registry, tags, "dalle2.trainer.steps", "steps the training in progress was asked for (0 when idle)",
                w -> current(w).map(TrainingStatus::steps).orElse(0L));
        gauge(registry, tags, "dalle2.trainer.loss", "the last loss reported by the training in progress (NaN when "
                + "idle or none yet)", w -> current(w).map(TrainerWorkerWatch::lastLoss).orElse(Double.NaN));
    }

    private static Optional<TrainingStatus> current(TrainerWorker w) {
        String id = w.currentTraining();
        return id == null ? Optional.empty() : w.statusView().get(id);
    }

    private static double lastLoss(TrainingStatus status) {
        List<TrainingStatus.LossPoint> losses = status.losses();
        return losses == null || losses.isEmpty() ? Double.NaN : losses.get(losses.size() - 1).loss();
    }

    private void counter(MeterRegistry registry, Tags tags, String name, String help,
                         ToDoubleFunction<TrainerWorker> value) {
        FunctionCounter.builder(name, worker, value).description(help).tags(tags).register(registry);
    }

    private void gauge(MeterRegistry registry, Tags tags, String name, String help,
                       ToDoubleFunction<TrainerWorker> value) {
        Gauge.builder(name, worker, value).description(help).tags(tags).register(registry);
    }
}
