package dalle2.embedded;

import dalle2.kafka.KafkaClients;
import dalle2.messages.Messages;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;

/** Reads a topic from its beginning, outside any consumer group, the way tests look at what a component wrote. */
public final class TopicRecords {

    private static final Duration POLL = Duration.ofMillis(200);

    private TopicRecords() {
    }

    /** The first record keyed {@code key} on {@code topic}, decoded as {@code type}, waiting up to {@code timeout}. */
    public static <T> T awaitFirst(String bootstrap, String topic, String key, Class<T> type, Duration timeout) {
        try (KafkaConsumer<String, byte[]> consumer = fromBeginning(bootstrap, topic)) {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (System.nanoTime() < deadline) {
                for (ConsumerRecord<String, byte[]> rec : consumer.poll(POLL)) {
                    if (key.equals(rec.key())) {
                        return Messages.decode(rec.value(), type);
                    }
                }
            }
        }
        throw new AssertionError("no record keyed " + key + " on " + topic + " within " + timeout);
    }

    /** The first record keyed {@code key} on {@code topic}, as it is, waiting up to {@code timeout}. */
    public static ConsumerRecord<String, byte[]> awaitFirstRecord(String bootstrap, String topic, String key,
                                                                  Duration timeout) {
        try (KafkaConsumer<String, byte[]> consumer = fromBeginning(bootstrap, topic)) {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (System.nanoTime() < deadline) {
                for (ConsumerRecord<String, byte[]> rec : consumer.poll(POLL)) {
                    if (key.equals(rec.key())) {
                        return rec;
                    }
                }
            }
        }
        throw new AssertionError("no record keyed " + key + " on " + topic + " within " + timeout);
    }

    /** The first dead letter keyed {@code key}, waiting up to {@code timeout}. */
    public static dalle2.messages.DeadLetter awaitDeadLetter(String bootstrap, String key, Duration timeout) {
        return dalle2.kafka.DeadLetters.read(awaitFirstRecord(bootstrap, dalle2.kafka.Topics.DEAD_LETTERS, key,
                timeout));
    }

    /** Every record keyed {@code key} on {@code topic} up to its end when called, oldest first per partition. */
    public static <T> List<T> all(String bootstrap, String topic, String key, Class<T> type) {
        List<T> found = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> consumer = fromBeginning(bootstrap, topic)) {
            Map<TopicPartition, Long> end = consumer.endOffsets(consumer.assignment());
            Predicate<TopicPartition> behind = tp -> consumer.position(tp) < end.get(tp);
            while (end.keySet().stream().anyMatch(behind)) {
                for (ConsumerRecord<String, byte[]> rec : consumer.poll(POLL)) {
                    if (key.equals(rec.key())) {
                        found.add(Messages.decode(rec.value(), type));
                    }
                }
            }
        }
        return found;
    }

    private static KafkaConsumer<String, byte[]> fromBeginning(String bootstrap, String topic) {
        KafkaConsumer<String, byte[]> consumer = KafkaClients.readerConsumer(bootstrap, "test-reader");
        List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
        return consumer;
    }
}
