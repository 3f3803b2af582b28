package dalle2.pipeline;

import dalle2.kafka.KafkaClients;
import java.time.Duration;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntSupplier;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A consumer-group member's poll thread: it hands every record to the stage, commits each partition up to the
 * first record the stage has not finished ({@link OffsetTracker}), pauses the partitions while the stage holds
 * too many images, and restarts itself after a failure. On {@link #stop} it stops taking records, waits up to
 * the drain timeout for those taken to finish, commits and leaves the group; what is unfinished then is
 * redelivered to the partitions' next owner.
 */
final class PartitionConsumer {

    private static final Logger LOG = LoggerFactory.getLogger(PartitionConsumer.class);

    /** How long the poll loop waits before it restarts after a failure, doubling up to the cap. */
    static final Duration POLL_RESTART_BACKOFF = Duration.ofMillis(500);
    static final Duration POLL_RESTART_BACKOFF_CAP = Duration.ofSeconds(15);
    /** The longest one poll waits for records; also how long a paused loop waits for the stage to finish some. */
    static final Duration POLL_TIMEOUT = Duration.ofMillis(50);

    /** A record the stage has finished with (processed, skipped or dead-lettered): its offset may be committed. */
    record Done(TopicPartition partition, long offset) {
    }

    /** What the stage does with each record (on the poll thread; it must not throw). */
    interface RecordHandler {
        void accept(ConsumerRecord<String, byte[]> record);
    }

    /** Hears whether more records are on their way to the stage (a batch forming may wait for them). */
    interface ArrivalListener {
        void expectMore(boolean more);
    }

    private final String bootstrap;
    private final String group;
    private final String workerId;
    private final String topic;
    private final Duration drainTimeout;
    private final RecordHandler handler;
    private final ArrivalListener arrivals;
    private final IntSupplier inFlightImages;
    private final int maxInFlightImages;
    private final OffsetTracker tracker = new OffsetTracker();
    private final ConcurrentLinkedQueue<Done> done = new ConcurrentLinkedQueue<>();
    /** Notified when the stage finishes records: a paused loop waits on it instead of in the consumer's poll. */
    private final Object finished = new Object();
    private final AtomicInteger assigned = new AtomicInteger();
    /** Records of the assigned partitions not yet fetched, as of the last poll (no broker call). */
    private final AtomicLong lag = new AtomicLong();
    private final AtomicLong restarts = new AtomicLong();
    private final Thread thread;
    private volatile boolean running = true;
    /** True from a failure of the poll loop until its new consumer has subscribed. */
    private volatile boolean restarting;

    PartitionConsumer(String bootstrap, String group, String workerId, String topic, Duration drainTimeout,
                      RecordHandler handler, ArrivalListener arrivals, IntSupplier inFlightImages,
                      int maxInFlightImages) {
        this.bootstrap = bootstrap;
        this.group = group;
        this.workerId = workerId;
        this.topic = topic;
        this.drainTimeout = drainTimeout;
        this.handler = handler;
        this.arrivals = arrivals;
        this.inFlightImages = inFlightImages;
        this.maxInFlightImages = maxInFlightImages;
        this.thread = new Thread(this::pollLoop, group + "-" + workerId + "-poll");
    }

    void start() {
        thread.start();
    }

    /** Stops polling, drains and commits (see the class comment); returns when the thread has ended. */
    void stop(Duration joinTimeout) {
        running = false;
        try {
            thread.join(joinTimeout.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Marks a record finished; thread-safe. Its offset is committed once every earlier one is finished too. */
    void done(Done record) {
        done.add(record);
        wakePausedLoop();
    }

    void done(Collection<Done> records) {
        done.addAll(records);
        wakePausedLoop();
    }

    private void wakePausedLoop() {
        synchronized (finished) {
            finished.notifyAll();
        }
    }

    int assignedPartitions() {
        return assigned.get();
    }

    long lag() {
        return lag.get();
    }

    long restarts() {
        return restarts.get();
    }

    boolean alive() {
        return thread.isAlive();
    }

    /** Whether the loop runs: not restarting after a failure, not stopped. */
    boolean polling() {
        return !restarting && thread.isAlive();
    }

    /**
     * Consumes until stopped. A failure of the loop itself (not of a record: those become dead letters) restarts
     * it with a new consumer after a backoff; meanwhile {@link #polling()} is false, so readiness reports it.
     */
    private void pollLoop() {
        Duration backoff = POLL_RESTART_BACKOFF;
        while (running) {
            try {
                consume();
                return;
            } catch (RuntimeException | LinkageError | AssertionError e) {
                restarting = true;
                tracker.revokeAll();
                assigned.set(0);
                if (!running) {
                    return;
                }
                restarts.incrementAndGet();
                LOG.error("{}: poll loop failed; restarting it in {} ms", workerId, backoff.toMillis(), e);
                try {
                    Thread.sleep(backoff.toMillis());
                } catch (InterruptedException interrupted) {
                    return;
                }
                backoff = backoff.multipliedBy(2).compareTo(POLL_RESTART_BACKOFF_CAP) > 0 ? POLL_RESTART_BACKOFF_CAP
                        : backoff.multipliedBy(2);
            }
        }
    }

    private void consume() {
        try (KafkaConsumer<String, byte[]> c = KafkaClients.groupConsumer(bootstrap, group,
                KafkaClients.clientId(group + "-" + workerId))) {
            c.subscribe(List.of(topic), new ConsumerRebalanceListener() {
                @Override
                public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
                    drainDone();
                    commit(c, true);
                    tracker.revoke(partitions);
                    assigned.set(c.assignment().size() - partitions.size());
                }

                @Override
                public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
                    assigned.set(c.assignment().size());
                }

                @Override
                public void onPartitionsLost(Collection<TopicPartition> partitions) {
                    tracker.revoke(partitions);
                    assigned.set(0);
                }
            });
            restarting = false;
            while (running) {
                drainDone();
                commit(c, false);
                adjustPause(c);
                // saturated (every partition paused), the loop waits here for the stage, not inside poll
                Duration wait = KafkaClients.pollWait(c, POLL_TIMEOUT);
                ConsumerRecords<String, byte[]> polled = c.poll(wait);
                if (!polled.isEmpty()) {
                    // a batch started while these are handed over waits for the rest of them
                    arrivals.expectMore(true);
                    for (ConsumerRecord<String, byte[]> record : polled) {
                        tracker.received(new TopicPartition(record.topic(), record.partition()), record.offset());
                        handler.accept(record);
                    }
                }
                arrivals.expectMore(backlogged(c));
                lag.set(lagOf(c));
                if (wait.isZero()) {
                    awaitFinished(POLL_TIMEOUT);
                }
            }
            long deadline = System.nanoTime() + drainTimeout.toNanos();
            c.pause(c.assignment());
            while (System.nanoTime() < deadline) {
                drainDone();
                if (tracker.unfinished() == 0) {
                    break;
                }
                c.poll(Duration.ZERO); // every partition is paused: waiting inside poll would spin (pollWait)
                awaitFinished(Duration.ofMillis(20));
            }
            drainDone();
            commit(c, true);
        }
    }

    /** Waits up to {@code max} unless the stage has finished records not yet taken in. */
    private void awaitFinished(Duration max) {
        synchronized (finished) {
            if (done.isEmpty()) {
                try {
                    finished.wait(max.toMillis());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }

    /**
     * Whether a partition this worker reads still holds records it has not fetched (from the last fetch's high
     * watermark: no broker call). Paused partitions do not count: nothing comes from them until they resume.
     */
    private static boolean backlogged(KafkaConsumer<String, byte[]> c) {
        Set<TopicPartition> paused = c.paused();
        for (TopicPartition tp : c.assignment()) {
            if (!paused.contains(tp) && c.currentLag(tp).orElse(0) > 0) {
                return true;
            }
        }
        return false;
    }

    /** Records not fetched yet in the assigned partitions, from the last fetch's high watermarks: no broker call. */
    private static long lagOf(KafkaConsumer<String, byte[]> c) {
        long total = 0;
        for (TopicPartition tp : c.assignment()) {
            total += c.currentLag(tp).orElse(0);
        }
        return total;
    }

    private void drainDone() {
        for (Done d; (d = done.poll()) != null; ) {
            tracker.done(d.partition(), d.offset());
        }
    }

    private void commit(KafkaConsumer<String, byte[]> c, boolean sync) {
        Map<TopicPartition, OffsetAndMetadata> offsets = tracker.committable();
        if (offsets.isEmpty()) {
            return;
        }
        if (sync) {
            try {
                c.commitSync(offsets, Duration.ofSeconds(10));
            } catch (RuntimeException e) {
                LOG.warn("{}: commit failed (records will be redelivered): {}", workerId, e.toString());
            }
        } else {
            c.commitAsync(offsets, (o, e) -> {
                if (e != null) {
                    LOG.warn("{}: async commit failed: {}", workerId, e.toString());
                }
            });
        }
    }

    /** Pauses every partition at the in-flight limit and resumes them once half of it has drained. */
    private void adjustPause(KafkaConsumer<String, byte[]> c) {
        int load = inFlightImages.getAsInt();
        if (load >= maxInFlightImages) {
            Set<TopicPartition> active = new LinkedHashSet<>(c.assignment());
            active.removeAll(c.paused());
            if (!active.isEmpty()) {
                c.pause(active);
            }
        } else if (!c.paused().isEmpty() && load <= maxInFlightImages / 2) {
            c.resume(c.paused());
        }
    }
}
