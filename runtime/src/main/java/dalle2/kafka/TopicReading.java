package dalle2.kafka;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;

/**
 * What every reader of a whole topic needs (the status views, the model catalog): the topic's partitions once
 * the broker knows them, and whether the reader has reached given end offsets.
 */
public final class TopicReading {

    private static final Duration METADATA_WAIT = Duration.ofSeconds(5);
    private static final long RETRY_MS = 200;

    private TopicReading() {
    }

    /**
     * The topic's partitions, asked for until the broker knows the topic (it may be created meanwhile) or
     * {@code running} turns false (then null).
     */
    public static List<TopicPartition> partitionsOf(Consumer<?, ?> consumer, String topic, BooleanSupplier running) {
        while (running.getAsBoolean()) {
            List<PartitionInfo> infos = consumer.partitionsFor(topic, METADATA_WAIT);
            if (infos != null && !infos.isEmpty()) {
                List<TopicPartition> partitions = new ArrayList<>();
                for (PartitionInfo info : infos) {
                    partitions.add(new TopicPartition(info.topic(), info.partition()));
                }
                return partitions;
            }
            try {
                Thread.sleep(RETRY_MS);
            } catch (InterruptedException e) {
                return null;        // the reader is closing
            }
        }
        return null;
    }

    /** Whether the consumer's position has reached every partition's given end offset. */
    public static boolean reached(Consumer<?, ?> consumer, Map<TopicPartition, Long> end) {
        for (Map.Entry<TopicPartition, Long> e : end.entrySet()) {
            if (consumer.position(e.getKey()) < e.getValue()) {
                return false;
            }
        }
        return true;
    }
}
