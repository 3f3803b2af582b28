package dalle2.pipeline;

import dalle2.kafka.KafkaClients;
import dalle2.kafka.TopicReading;
import dalle2.kafka.Topics;
import dalle2.messages.Messages;
import dalle2.messages.TrainingState;
import dalle2.messages.TrainingStatus;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The trainings' last statuses, read whole from the compacted {@code training.status} topic (no consumer group),
 * so any gateway answers for any training and a trainer worker knows which jobs are finished. Updates apply
 * monotonically ({@link dalle2.messages.TrainingState#mayFollow}). Trainings are few next to generations: the
 * bound only guards memory against a flood, the least recently updated going first.
 */
public final class TrainingStatusView implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(TrainingStatusView.class);
    public static final int DEFAULT_MAX_TRAININGS = 10_000;
    private static final Duration POLL_TIMEOUT = Duration.ofMillis(100);
    private static final Duration RESTART_BACKOFF = Duration.ofSeconds(1);

    private final String bootstrap;
    private final String clientId;
    private final Map<String, TrainingStatus> trainings;
    private final CountDownLatch caughtUp = new CountDownLatch(1);
    private final ConcurrentLinkedQueue<CompletableFuture<Void>> syncRequests = new ConcurrentLinkedQueue<>();
    private final Thread thread;
    private volatile boolean running = true;
    private volatile boolean consuming;
    private volatile KafkaConsumer<String, byte[]> consumer;

    public TrainingStatusView(String bootstrap, int maxTrainings, String role) {
        this.bootstrap = bootstrap;
        this.clientId = KafkaClients.clientId(role + "-training-status-view");
        this.trainings = new LinkedHashMap<>(256, 0.75f, false) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, TrainingStatus> eldest) {
                return size() > maxTrainings;
            }
        };
        this.thread = new Thread(this::run, clientId);
        this.thread.setDaemon(true);
    }

    public TrainingStatusView start() {
        thread.start();
        return this;
    }

    public boolean awaitCaughtUp(Duration timeout) throws InterruptedException {
        return caughtUp.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Caught up once and reading now: what it answers is current. */
    public boolean healthy() {
        return caughtUp.getCount() == 0 && consuming && thread.isAlive();
    }

    /** Newest submission first, then by id. */
    public static final java.util.Comparator<TrainingStatus> NEWEST_FIRST = java.util.Comparator
            .comparing((TrainingStatus s) -> java.time.Instant.parse(s.submittedAt() != null ? s.submittedAt()
                    : s.updatedAt()))
            .thenComparing(TrainingStatus::trainingId).reversed();

    /**
     * The trainings {@code include} accepts, {@link #NEWEST_FIRST}, those after {@code after} (the last of an
     * earlier page) only, at most {@code limit}. Copies under the lock and sorts outside it.
     */
    public java.util.List<TrainingStatus> newest(java.util.function.Predicate<TrainingStatus> include,
                                                TrainingStatus after, int limit) {
        java.util.List<TrainingStatus> all;
        synchronized (trainings) {
            all = trainings.values().stream().filter(include).toList();
        }
        return all.stream().filter(s -> after == null || NEWEST_FIRST.compare(s, after) > 0).sorted(NEWEST_FIRST)
                .limit(limit).toList();
    }

    public Optional<TrainingStatus> get(String trainingId) {
        synchronized (trainings) {
            return Optional.ofNullable(trainings.get(trainingId));
        }
    }

    /**
     * Takes a status this process wrote (or read); returns false when it would move the training back, or when it
     * is a second claim on a queued training: two submissions with one Idempotency-Key raced, and the first
     * {@code queued} in the topic won (every view reads the partition in the same order, so all agree).
     */
    public boolean apply(TrainingStatus status) {
        synchronized (trainings) {
            TrainingStatus previous = trainings.get(status.trainingId());
            if (previous != null && !status.state().mayFollow(previous.state())) {
                return false;
            }
            if (previous != null && previous.state() == TrainingState.QUEUED && status.state() == TrainingState.QUEUED
                    && previous.request() != null && status.request() != null
                    && !previous.request().submittedAt().equals(status.request().submittedAt())) {
                return false;
            }
            trainings.remove(status.trainingId()); // re-inserted last: the map drops the least recently updated
            trainings.put(status.trainingId(), status);
            return true;
        }
    }

    /**
     * Completes once the view has read the topic up to where it ended when this was called, so that a status
     * acknowledged before the call is visible to {@link #get}.
     */
    public CompletableFuture<Void> sync() {
        CompletableFuture<Void> f = new CompletableFuture<>();
        if (!running) {
            f.completeExceptionally(new IllegalStateException("training status view closed"));
        } else {
            syncRequests.add(f);
        }
        return f;
    }

    private void run() {
        while (running) {
            try {
                consume();
            } catch (WakeupException e) {
                // closing
            } catch (RuntimeException e) {
                if (running) {
                    LOG.error("training status view stopped; restarting it in {} ms", RESTART_BACKOFF.toMillis(), e);
                }
            }
            consuming = false;
            if (running) {
                try {
                    Thread.sleep(RESTART_BACKOFF.toMillis());
                } catch (InterruptedException e) {
                    break;
                }
            }
        }
        for (CompletableFuture<Void> f; (f = syncRequests.poll()) != null; ) {
            f.completeExceptionally(new IllegalStateException("training status view closed"));
        }
    }

    private record Barrier(Map<TopicPartition, Long> end, CompletableFuture<Void> done) {
    }

    private void consume() {
        List<Barrier> barriers = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> c = KafkaClients.readerConsumer(bootstrap, clientId)) {
            consumer = c;
            List<TopicPartition> partitions = TopicReading.partitionsOf(c, Topics.TRAINING_STATUS, () -> running);
            if (partitions == null) {
                return;
            }
            c.assign(partitions);
            c.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = c.endOffsets(partitions);
            while (running) {
                if (!syncRequests.isEmpty()) {
                    Map<TopicPartition, Long> now = c.endOffsets(partitions);
                    for (CompletableFuture<Void> f; (f = syncRequests.poll()) != null; ) {
                        barriers.add(new Barrier(now, f));
                    }
                }
                for (ConsumerRecord<String, byte[]> record : c.poll(POLL_TIMEOUT)) {
                    applyRecord(record);
                }
                if (!consuming && TopicReading.reached(c, end)) {
                    consuming = true;
                    caughtUp.countDown();
                }
                barriers.removeIf(b -> {
                    if (!TopicReading.reached(c, b.end())) {
                        return false;
                    }
                    b.done().complete(null);
                    return true;
                });
            }
        } finally {
            consumer = null;
            for (Barrier b : barriers) {
                syncRequests.add(b.done());
            }
        }
    }

    /** An unreadable status is passed over: no record may stop the reader. */
    private void applyRecord(ConsumerRecord<String, byte[]> record) {
        if (record.value() == null) {
            return;
        }
        try {
            apply(Messages.decode(record.value(), TrainingStatus.class));
        } catch (RuntimeException e) {
            LOG.warn("ignoring unreadable training status at {}-{}@{}: {}", record.topic(), record.partition(),
                    record.offset(), e.getMessage());
        }
    }

    @Override
    public void close() {
        running = false;
        KafkaConsumer<String, byte[]> c = consumer;
        if (c != null) {
            c.wakeup();
        }
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
