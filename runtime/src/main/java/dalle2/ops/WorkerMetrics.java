package dalle2.ops;

import dalle2.pipeline.StageWorker;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import java.util.function.ToDoubleFunction;

/**
 * The numbers a {@link StageWorker} keeps itself (counters, queue sizes, its model version), registered as meters
 * read at scrape time, together with the meters it records into as it works ({@link dalle2.pipeline.StageMeters}:
 * batch sizes, step and image latency, failures by reason). The group's lag as the brokers count it is
 * {@link ConsumerGroupLag}'s. Every series carries the labels {@code pool}
 * (consumer group) and {@code worker}. The names are the ones {@code deploy/README.md} and the Grafana dashboard
 * in {@code deploy/grafana/} query; images per second is {@code rate(dalle2_worker_images_total[1m])}, left to
 * Prometheus rather than averaged over a window chosen here.
 */
final class WorkerMetrics {

    private WorkerMetrics() {
    }

    static void bind(MeterRegistry registry, StageWorker<?, ?, ?, ?> worker) {
        worker.meters().publishTo(registry);
        Tags tags = worker.meters().tags();

        counter(registry, tags, worker, "dalle2.worker.records", "input records polled (one record is one job)",
                w -> w.stats().records());
        String jobs = "jobs finished by this worker, by outcome (skipped: cancelled or already handled)";
        counter(registry, tags.and("outcome", "succeeded"), worker, "dalle2.worker.jobs", jobs,
                w -> w.stats().jobsSucceeded());
        counter(registry, tags.and("outcome", "failed"), worker, "dalle2.worker.jobs", jobs,
                w -> w.stats().jobsFailed());
        counter(registry, tags.and("outcome", "skipped"), worker, "dalle2.worker.jobs", jobs,
                w -> w.stats().jobsSkipped());
        counter(registry, tags, worker, "dalle2.worker.images", "images persisted (embeddings or PNGs)",
                w -> w.stats().images());
        counter(registry, tags, worker, "dalle2.worker.batches", "model batches started", w -> w.stats().batches());
        counter(registry, tags, worker, "dalle2.worker.dead.letters", "unreadable records sent to dead letters",
                w -> w.stats().deadLetters());
        counter(registry, tags, worker, "dalle2.worker.retries",
                "storage or output writes tried again after a transient failure", w -> w.stats().retries());
        counter(registry, tags, worker, "dalle2.worker.batches.stopped",
                "running batches stopped because every job in them was cancelled", w -> w.stats().batchesStopped());
        counter(registry, tags, worker, "dalle2.worker.poll.loop.restarts",
                "times the poll loop failed and was restarted with a new consumer", w -> w.stats().pollLoopRestarts());
        counter(registry, tags, worker, "dalle2.worker.report.retries",
                "dead letters and failure statuses tried again after Kafka refused them", w -> w.stats().reportRetries());
        counter(registry, tags, worker, "dalle2.worker.status.view.restarts",
                "times the worker's status view failed and was restarted", w -> w.statusView().restarts());
        counter(registry, tags, worker, "dalle2.worker.model.seconds", "time spent in finished model calls",
                w -> w.batchStats().snapshot().modelSeconds());

        gauge(registry, tags, worker, "dalle2.worker.stalled.reports",
                "dead letters and failure statuses waiting to be tried again (their partitions cannot commit past them)",
                StageWorker::stalledReports);
        gauge(registry, tags, worker, "dalle2.worker.in.flight.images", "images received and not yet finished",
                StageWorker::inFlightImages);
        gauge(registry, tags, worker, "dalle2.worker.assigned.partitions", "input partitions this worker owns",
                StageWorker::assignedPartitions);
        gauge(registry, tags, worker, "dalle2.worker.consumer.lag",
                "records in the assigned input partitions not fetched yet (from the last fetch; stale while paused)",
                StageWorker::consumerLag);
        gauge(registry, tags, worker, "dalle2.worker.last.batch.size", "images in the last finished model call",
                w -> w.batchStats().snapshot().lastSize());
        gauge(registry, tags, worker, "dalle2.worker.model.busy.seconds",
                "how long the model call running now has taken (0 when idle)",
                w -> w.batchStats().snapshot().busySeconds());
        gauge(registry, tags, worker, "dalle2.worker.status.view.jobs", "jobs in the worker's status view",
                w -> w.statusView().size());
        counter(registry, tags, worker, "dalle2.worker.model.versions.refused",
                "versions a registry-following worker refused to switch to (fetch, verification, load or CLIP check "
                        + "failed; the log says why)", StageWorker::modelVersionsRefused);
        registerServedVersions(registry, worker);
    }

    /**
     * A gauge per version the worker has served: 1 while new jobs get it (the stable version, and a canary), 0
     * after a roll-out moved on. Called again before every scrape, so a version switched to later appears; a
     * gauge already registered is returned as it is.
     */
    static void registerServedVersions(MeterRegistry registry, StageWorker<?, ?, ?, ?> worker) {
        Tags tags = worker.meters().tags();
        for (String version : worker.modelVersionsServed()) {
            gauge(registry, tags.and("version", version), worker, "dalle2.worker.model.version",
                    "1 for each version of the weights new jobs get now (the version label), 0 for earlier ones",
                    w -> w.modelVersionsServed().contains(version) ? 1 : 0);
        }
    }

    private static void counter(MeterRegistry registry, Tags tags, StageWorker<?, ?, ?, ?> worker, String name,
                                String help, ToDoubleFunction<StageWorker<?, ?, ?, ?>> value) {
        FunctionCounter.builder(name, worker, value).description(help).tags(tags).register(registry);
    }

    private static void gauge(MeterRegistry registry, Tags tags, StageWorker<?, ?, ?, ?> worker, String name,
                              String help, ToDoubleFunction<StageWorker<?, ?, ?, ?>> value) {
        Gauge.builder(name, worker, value).description(help).tags(tags).register(registry);
    }
}
