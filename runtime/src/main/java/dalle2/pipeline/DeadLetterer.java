package dalle2.pipeline;

import dalle2.kafka.DeadLetters;
import dalle2.messages.JobStatus;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Puts the records a stage refuses on the dead-letter topic, with the failed status of their job when there is
 * one to write, and lets each record's offset be committed only once both are acknowledged.
 */
final class DeadLetterer {

    private static final Logger LOG = LoggerFactory.getLogger(DeadLetterer.class);

    private final String workerId;
    private final String source;
    private final StageMeters meters;
    private final StageOutput output;
    private final PartitionConsumer partitions;
    private final AtomicLong letters = new AtomicLong();

    /** {@code source} names the refusing worker in each letter ({@code <group>/<worker id>}). */
    DeadLetterer(String workerId, String source, StageMeters meters, StageOutput output, PartitionConsumer partitions) {
        this.workerId = workerId;
        this.source = source;
        this.meters = meters;
        this.output = output;
        this.partitions = partitions;
    }

    long letters() {
        return letters.get();
    }

    /**
     * Puts a refused record on the dead-letter topic (keyed by the job it names, the original key inside) and,
     * when given, writes its job's failed status; the record counts as done once both are acknowledged. A letter
     * too large for the broker is cut down to what fits on its next try.
     */
    void deadLetter(ConsumerRecord<String, byte[]> record, String letterKey, String code, String reason,
                    JobStatus failedStatus) {
        meters.failure(code);
        LOG.warn("{}: dead-lettering {}-{}@{}: {}", workerId, record.topic(), record.partition(), record.offset(),
                reason);
        letters.incrementAndGet();
        String what = "dead-letter " + record.topic() + "-" + record.partition() + "@" + record.offset();
        AtomicReference<ProducerRecord<String, byte[]>> toSend =
                new AtomicReference<>(DeadLetters.of(record, letterKey, reason, source));
        TopicPartition tp = new TopicPartition(record.topic(), record.partition());
        output.untilAcknowledged(what, () -> {
            CompletableFuture<?> sent = output.send(toSend.get()).whenComplete((ok, e) -> {
                if (e != null && Failures.unwrap(e) instanceof RecordTooLargeException) {
                    toSend.set(DeadLetters.truncated(toSend.get()));
                }
            });
            return failedStatus == null ? sent : CompletableFuture.allOf(sent, output.sendStatusAlways(failedStatus));
        }, () -> partitions.done(new PartitionConsumer.Done(tp, record.offset())));
    }
}
