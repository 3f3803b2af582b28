package dalle2.cli.bench;

import dalle2.kafka.KafkaClients;
import dalle2.kafka.Topics;
import dalle2.messages.InvalidMessageException;
import dalle2.messages.JobStatus;
import dalle2.messages.Messages;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;

/**
 * Keeps every record of the status topic, per job, in arrival order: unlike the gateway's view (the latest status
 * only) it still has the intermediate ones, e.g. the decoder's last progress record, whose {@code updated_at} is
 * when the last U-Net step finished.
 */
public final class StatusRecorder implements AutoCloseable {

    private final Map<String, List<JobStatus>> byJob = new ConcurrentHashMap<>();
    private final KafkaConsumer<String, byte[]> consumer;
    private final Thread thread;
    private volatile boolean running = true;

    private StatusRecorder(String bootstrap) {
        this.consumer = KafkaClients.readerConsumer(bootstrap, KafkaClients.clientId("bench-status-recorder"));
        List<TopicPartition> partitions = new ArrayList<>();
        for (PartitionInfo info : consumer.partitionsFor(Topics.STATUS, Duration.ofSeconds(30))) {
            partitions.add(new TopicPartition(info.topic(), info.partition()));
        }
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
        this.thread = new Thread(this::run, "bench-status-recorder");
        this.thread.setDaemon(true);
    }

    /** Reads the status topic (which must exist) from the beginning until closed. */
    public static StatusRecorder start(String bootstrap) {
        StatusRecorder recorder = new StatusRecorder(bootstrap);
        recorder.thread.start();
        return recorder;
    }

    /** The status records of a job read so far, oldest first. */
    public List<JobStatus> records(String jobId) {
        return byJob.getOrDefault(jobId, List.of());
    }

    private void run() {
        try {
            while (running) {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(100))) {
                    if (r.key() == null || r.value() == null) {
                        continue;
                    }
                    try {
                        JobStatus s = Messages.decode(r.value(), JobStatus.class);
                        byJob.computeIfAbsent(s.jobId(), k -> new CopyOnWriteArrayList<>()).add(s);
                    } catch (InvalidMessageException ignored) {
                        // not a job's status: nothing to time
                    }
                }
            }
        } catch (WakeupException stopping) {
            // close() asked us to stop
        } finally {
            consumer.close(Duration.ofSeconds(2));
        }
    }

    @Override
    public void close() {
        running = false;
        consumer.wakeup();
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
