package dalle2.pipeline;

import dalle2.kafka.KafkaClients;
import dalle2.kafka.Topics;
import dalle2.messages.InvalidMessageException;
import dalle2.messages.JobState;
import dalle2.messages.JobStatus;
import dalle2.messages.Messages;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A bounded in-memory view of the compacted status topic: every gateway and worker reads the whole topic (no
 * consumer group, from the beginning), so any instance answers for any job and workers see cancellations.
 *
 * <p>Updates are applied monotonically ({@link JobState#mayFollow}): a redelivered message that repeats an
 * earlier stage never moves a job back, and nothing leaves a terminal state. At most {@code maxJobs} jobs are
 * kept; the least recently updated go first.
 */
public final class StatusView implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(StatusView.class);
    public static final int DEFAULT_MAX_JOBS = 100_000;

    private record QueueEntry(String submittedAt, String jobId) {
    }

    private static final Comparator<QueueEntry> QUEUE_ORDER =
            Comparator.comparing(QueueEntry::submittedAt).thenComparing(QueueEntry::jobId);

    private final String bootstrap;
    private final int maxJobs;
    private final String clientId;
    private final Map<String, JobStatus> jobs;
    private final ConcurrentSkipListSet<QueueEntry> queued = new ConcurrentSkipListSet<>(QUEUE_ORDER);
    private final CountDownLatch caughtUp = new CountDownLatch(1);
    private volatile boolean running = true;
    private volatile KafkaConsumer<String, byte[]> consumer;
    private volatile long applied;
    private final Thread thread;

    public StatusView(String bootstrap, int maxJobs, String role) {
        this.bootstrap = bootstrap;
        this.maxJobs = maxJobs;
        this.clientId = KafkaClients.clientId(role + "-status-view");
        this.jobs = new LinkedHashMap<>(1024, 0.75f, false) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, JobStatus> eldest) {
                if (size() > StatusView.this.maxJobs) {
                    forgetQueued(eldest.getValue());
                    return true;
                }
                return false;
            }
        };
        this.thread = new Thread(this::run, clientId);
        this.thread.setDaemon(true);
    }

    public StatusView start() {
        thread.start();
        return this;
    }

    /** Waits until the view has read the topic up to where it ended when the view started. */
    public boolean awaitCaughtUp(Duration timeout) throws InterruptedException {
        return caughtUp.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    public boolean isCaughtUp() {
        return caughtUp.getCount() == 0;
    }

    public Optional<JobStatus> get(String jobId) {
        synchronized (jobs) {
            return Optional.ofNullable(jobs.get(jobId));
        }
    }

    public boolean isCancelled(String jobId) {
        return get(jobId).map(s -> s.state() == JobState.CANCELLED).orElse(false);
    }

    public int size() {
        synchronized (jobs) {
            return jobs.size();
        }
    }

    /** Status records applied so far (including those refused as regressions). */
    public long applied() {
        return applied;
    }

    /**
     * 1-based position among jobs still waiting for a prior worker, oldest first; empty unless the job is queued.
     * Counts the jobs this view knows of (gateway submissions; Kafka submissions have no queued status).
     */
    public OptionalInt queuePosition(String jobId) {
        JobStatus s = get(jobId).orElse(null);
        if (s == null || s.state() != JobState.QUEUED || s.timestamps().submittedAt() == null) {
            return OptionalInt.empty();
        }
        QueueEntry key = new QueueEntry(s.timestamps().submittedAt(), jobId);
        return OptionalInt.of(queued.headSet(key).size() + 1);
    }

    /**
     * Applies a status (read from the topic, or just written by this process, for read-your-writes).
     *
     * @return whether it replaced what the view had
     */
    public boolean apply(JobStatus status) {
        synchronized (jobs) {
            JobStatus previous = jobs.get(status.jobId());
            if (previous != null && !status.state().mayFollow(previous.state())) {
                return false;
            }
            if (previous != null) {
                forgetQueued(previous);
                jobs.remove(status.jobId());
            }
            jobs.put(status.jobId(), status);
            if (status.state() == JobState.QUEUED && status.timestamps().submittedAt() != null) {
                queued.add(new QueueEntry(status.timestamps().submittedAt(), status.jobId()));
            }
            return true;
        }
    }

    private void forgetQueued(JobStatus s) {
        if (s.state() == JobState.QUEUED && s.timestamps().submittedAt() != null) {
            queued.remove(new QueueEntry(s.timestamps().submittedAt(), s.jobId()));
        }
    }

    private void run() {
        try (KafkaConsumer<String, byte[]> c = KafkaClients.readerConsumer(bootstrap, clientId)) {
            consumer = c;
            List<TopicPartition> partitions = waitForPartitions(c);
            if (partitions == null) {
                return;
            }
            c.assign(partitions);
            c.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = c.endOffsets(partitions);
            while (running) {
                for (ConsumerRecord<String, byte[]> record : c.poll(Duration.ofMillis(200))) {
                    applyRecord(record);
                }
                if (caughtUp.getCount() > 0 && reached(c, end)) {
                    LOG.debug("status view caught up: {} jobs", size());
                    caughtUp.countDown();
                }
            }
        } catch (WakeupException e) {
            if (running) {
                LOG.error("status view woken up unexpectedly", e);
            }
        } catch (RuntimeException e) {
            if (running) {
                LOG.error("status view stopped", e);
            }
        }
    }

    private List<TopicPartition> waitForPartitions(KafkaConsumer<String, byte[]> c) {
        while (running) {
            List<PartitionInfo> infos = c.partitionsFor(Topics.STATUS, Duration.ofSeconds(5));
            if (infos != null && !infos.isEmpty()) {
                List<TopicPartition> partitions = new ArrayList<>();
                for (PartitionInfo info : infos) {
                    partitions.add(new TopicPartition(info.topic(), info.partition()));
                }
                return partitions;
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                return null;
            }
        }
        return null;
    }

    private static boolean reached(KafkaConsumer<String, byte[]> c, Map<TopicPartition, Long> end) {
        for (Map.Entry<TopicPartition, Long> e : end.entrySet()) {
            if (c.position(e.getKey()) < e.getValue()) {
                return false;
            }
        }
        return true;
    }

    private void applyRecord(ConsumerRecord<String, byte[]> record) {
        applied++;
        if (record.value() == null) {
            return;
        }
        try {
            apply(Messages.decode(record.value(), JobStatus.class));
        } catch (InvalidMessageException e) {
            LOG.warn("ignoring unreadable status at {}-{}@{}: {}", record.topic(), record.partition(), record.offset(),
                    e.getMessage());
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
