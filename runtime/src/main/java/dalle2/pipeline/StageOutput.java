package dalle2.pipeline;

import dalle2.kafka.Topics;
import dalle2.messages.JobStatus;
import dalle2.messages.Messages;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a stage writes: records whose acknowledgement it waits for (completed on an I/O thread), statuses kept in
 * step with the stage's own status view, and reports (dead letters, failure statuses) tried until they are
 * acknowledged.
 */
final class StageOutput {

    private static final Logger LOG = LoggerFactory.getLogger(StageOutput.class);

    /** How long a report (dead letter, failure status) waits before it is tried again, doubling up to the cap. */
    static final Duration REPORT_BACKOFF = Duration.ofMillis(250);
    static final Duration REPORT_BACKOFF_CAP = Duration.ofSeconds(10);

    private final KafkaProducer<String, byte[]> producer;
    private final StatusView view;
    private final IoThreads io;
    private final String workerId;
    private final String lateAckThreadName;
    private final BooleanSupplier closing;
    private final AtomicLong reportRetries = new AtomicLong();
    /** Reports whose last try failed and that are waiting to be tried again. */
    private final AtomicInteger stalledReports = new AtomicInteger();

    StageOutput(KafkaProducer<String, byte[]> producer, StatusView view, IoThreads io, String workerId,
                String lateAckThreadName, BooleanSupplier closing) {
        this.producer = producer;
        this.view = view;
        this.io = io;
        this.workerId = workerId;
        this.lateAckThreadName = lateAckThreadName;
        this.closing = closing;
    }

    int stalledReports() {
        return stalledReports.get();
    }

    long reportRetries() {
        return reportRetries.get();
    }

    /** Sends one record; the future completes, on an I/O thread, when the brokers acknowledged it (acks=all). */
    CompletableFuture<RecordMetadata> send(ProducerRecord<String, byte[]> record) {
        CompletableFuture<RecordMetadata> f = new CompletableFuture<>();
        try {
            // complete on an I/O thread, never on the producer's network thread: a dependent send() there would
            // wait for metadata that only that same thread can fetch (a deadlock until max.block.ms)
            producer.send(record, (metadata, e) -> offThread(() -> {
                if (e == null) {
                    f.complete(metadata);
                } else {
                    f.completeExceptionally(e);
                }
            }));
        } catch (RuntimeException e) {
            f.completeExceptionally(e);
        }
        return f;
    }

    private void offThread(Runnable r) {
        try {
            io.execute(r);
        } catch (RejectedExecutionException closed) {
            new Thread(r, lateAckThreadName).start();
        }
    }

    /** Sends a status unless the job was cancelled meanwhile (a cancelled job's status stays cancelled). */
    CompletableFuture<?> sendStatus(JobStatus status) {
        if (view.isCancelled(status.jobId())) {
            return CompletableFuture.completedFuture(null);
        }
        return sendStatusAlways(status);
    }

    /** Sends a status, first applying it to this stage's own view so that the stage sees it at once. */
    CompletableFuture<?> sendStatusAlways(JobStatus status) {
        view.apply(status);
        return send(new ProducerRecord<>(Topics.STATUS, status.jobId(), Messages.encode(status)));
    }

    /**
     * Sends a report until the brokers acknowledge it, then runs {@code onAcknowledged} (which lets its record's
     * offset be committed). A report is never given up while the worker runs: its record cannot be committed
     * before it is written, so giving up would stall the partition for good. Retries count in the metrics and a
     * report waiting for its next try shows in {@link #stalledReports()} (readiness).
     */
    void untilAcknowledged(String what, Supplier<CompletableFuture<?>> report, Runnable onAcknowledged) {
        untilAcknowledged(what, report, onAcknowledged, 1, false);
    }

    private void untilAcknowledged(String what, Supplier<CompletableFuture<?>> report, Runnable onAcknowledged,
                                   int attempt, boolean stalled) {
        CompletableFuture<?> sent;
        try {
            sent = report.get();
        } catch (RuntimeException e) {
            sent = CompletableFuture.failedFuture(e);
        }
        sent.whenComplete((ok, e) -> {
            if (e == null) {
                if (stalled) {
                    stalledReports.decrementAndGet();
                    LOG.info("{}: {} written after {} tries", workerId, what, attempt);
                }
                onAcknowledged.run();
                return;
            }
            if (closing.getAsBoolean()) {
                if (stalled) {
                    stalledReports.decrementAndGet();
                }
                LOG.warn("{}: closing; cannot {} ({}); its record will be redelivered", workerId, what,
                        Failures.describe(e));
                return;
            }
            if (!stalled) {
                stalledReports.incrementAndGet();
            }
            reportRetries.incrementAndGet();
            long wait = Math.min(REPORT_BACKOFF_CAP.toMillis(), REPORT_BACKOFF.toMillis() << Math.min(attempt - 1, 16));
            LOG.warn("{}: cannot {} (try {}): {}; trying again in {} ms", workerId, what, attempt,
                    Failures.describe(e), wait);
            io.later(Duration.ofMillis(wait), () -> untilAcknowledged(what, report, onAcknowledged, attempt + 1,
                    true));
        });
    }
}
