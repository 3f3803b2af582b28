package dalle2.ops;

import io.micrometer.core.instrument.MeterRegistry;
import java.util.Map;

/**
 * What {@link WorkerOpsServer} needs of a worker to answer its probes and scrapes: a stage worker of a pool
 * ({@link StageWorkerWatch}) or a trainer worker. Check values are {@code "ok"} or a word saying what is wrong.
 */
public interface WatchedWorker {

    String workerId();

    /** The consumer group whose lag on {@link #inputTopic} is reported. */
    String group();

    String inputTopic();

    /** Liveness: the worker's threads run (a thread that died never comes back, so a restart is the cure). */
    Map<String, String> livenessChecks();

    /** Readiness, beyond Kafka answering (which the server checks once for all workers). */
    Map<String, String> readinessChecks();

    /** Input partitions this member owns now: reported, not required. */
    int assignedPartitions();

    /** Registers the worker's meters, read at scrape time. */
    void bindMeters(MeterRegistry registry);

    /** Registers meters that appear only later (a model version switched to); called before every scrape. */
    default void beforeScrape(MeterRegistry registry) {
    }
}
