package dalle2.pipeline;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * What one worker records as it happens, for its {@code /metrics}: the size of every model call, the time of
 * every sampling step, the time of every image from its record's arrival until its result is stored, and failures
 * by reason. The meters live in a composite registry that a process's Prometheus registry joins
 * ({@link #publishTo}); until one does, recording goes nowhere and costs next to nothing.
 */
public final class StageMeters {

    /** Upper bounds (images per model call) of the batch-size histogram; larger batches fall in +Inf. */
    private static final double[] BATCH_SIZE_BOUNDS = {1, 2, 4, 8, 16, 32, 64};

    /**
     * Reasons a job or record fails, registered at zero so a dashboard's rate is 0, not "no data", before the
     * first failure: the failed-status codes of {@link StageWorker} and of its dead letters.
     */
    public static final List<String> FAILURE_REASONS = List.of("model_error", "storage_error", "output_error",
            "invalid_message", "invalid_key", "unprocessable_record");

    private final CompositeMeterRegistry registry = new CompositeMeterRegistry();
    private final Tags tags;
    private final DistributionSummary batchSize;
    private final Timer step;
    private final Timer image;
    private final ConcurrentMap<String, Counter> failures = new ConcurrentHashMap<>();

    StageMeters(String pool, String workerId) {
        tags = Tags.of("pool", pool, "worker", workerId);
        batchSize = DistributionSummary.builder("dalle2.worker.batch.size")
                .description("images per model call")
                .serviceLevelObjectives(BATCH_SIZE_BOUNDS)
                .tags(tags)
                .register(registry);
        step = Timer.builder("dalle2.worker.step")
                .description("one sampling step of a model call (every image of the batch at once)")
                .publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofMillis(1))
                .maximumExpectedValue(Duration.ofSeconds(30))
                .tags(tags)
                .register(registry);
        image = Timer.builder("dalle2.worker.image")
                .description("one image, from its record's arrival at this worker until its result was stored")
                .publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofMillis(10))
                .maximumExpectedValue(Duration.ofMinutes(10))
                .tags(tags)
                .register(registry);
        FAILURE_REASONS.forEach(this::failureCounter);
    }

    /** Makes every meter of this worker, present and future, report to {@code target} too. */
    public void publishTo(MeterRegistry target) {
        registry.add(target);
    }

    /** The pool and worker tags every meter of this worker carries. */
    public Tags tags() {
        return tags;
    }

    void batch(int images) {
        batchSize.record(images);
    }

    void step(long nanos) {
        step.record(Duration.ofNanos(nanos));
    }

    void image(long nanos) {
        image.record(Duration.ofNanos(nanos));
    }

    void failure(String reason) {
        failureCounter(reason).increment();
    }

    private Counter failureCounter(String reason) {
        return failures.computeIfAbsent(reason, r -> Counter.builder("dalle2.worker.failures")
                .description("jobs failed and records dead-lettered, by reason")
                .tags(tags.and("reason", r))
                .register(registry));
    }
}
