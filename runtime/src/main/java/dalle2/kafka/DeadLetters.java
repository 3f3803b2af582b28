package dalle2.kafka;

import dalle2.messages.DeadLetter;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * The dead-letter topic's format: the refused record's value unchanged (whatever bytes it was), keyed by the job
 * it names, with its own headers kept and these added — the same shape Kafka Connect's dead-letter queues use,
 * so the value can be inspected or replayed as it was.
 */
public final class DeadLetters {

    private static final String PREFIX = "dalle2.dead-letter.";
    /** Why the record was refused. */
    public static final String REASON = PREFIX + "reason";
    public static final String SOURCE_TOPIC = PREFIX + "topic";
    public static final String SOURCE_PARTITION = PREFIX + "partition";
    public static final String SOURCE_OFFSET = PREFIX + "offset";
    /** The original key; absent when the record had none. */
    public static final String SOURCE_KEY = PREFIX + "key";
    /** {@code <pool>/<worker id>} */
    public static final String WORKER = PREFIX + "worker";
    public static final String FAILED_AT = PREFIX + "failed-at";
    /** Present when the value had to be cut to fit the topic: its original length in bytes. */
    public static final String TRUNCATED_FROM = PREFIX + "truncated-from";
    /** What a cut value keeps: well under the brokers' default 1 MiB record limit, headers included. */
    public static final int TRUNCATED_BYTES = 256 * 1024;

    private DeadLetters() {
    }

    /** The dead letter of {@code source}, keyed {@code letterKey} (the job it names, or its own key). */
    public static ProducerRecord<String, byte[]> of(ConsumerRecord<String, byte[]> source, String letterKey,
                                                    String reason, String worker) {
        Headers headers = new RecordHeaders();
        for (Header h : source.headers()) {
            if (!h.key().startsWith(PREFIX)) {
                headers.add(h);
            }
        }
        put(headers, REASON, reason);
        put(headers, SOURCE_TOPIC, source.topic());
        put(headers, SOURCE_PARTITION, Integer.toString(source.partition()));
        put(headers, SOURCE_OFFSET, Long.toString(source.offset()));
        if (source.key() != null) {
            put(headers, SOURCE_KEY, source.key());
        }
        put(headers, WORKER, worker);
        put(headers, FAILED_AT, Instant.now().toString());
        return new ProducerRecord<>(Topics.DEAD_LETTERS, null, letterKey, source.value(), headers);
    }

    /**
     * The same letter with its value cut to {@value #TRUNCATED_BYTES} bytes, for a value the topic refused as too
     * large (a letter adds headers to a record that was already near the limit): a letter that can never be
     * written would hold its partition's commits for good.
     */
    public static ProducerRecord<String, byte[]> truncated(ProducerRecord<String, byte[]> letter) {
        byte[] value = letter.value();
        if (value == null || value.length <= TRUNCATED_BYTES) {
            return letter;
        }
        Headers headers = new RecordHeaders(letter.headers().toArray());
        put(headers, TRUNCATED_FROM, Integer.toString(value.length));
        return new ProducerRecord<>(letter.topic(), null, letter.key(), java.util.Arrays.copyOf(value, TRUNCATED_BYTES),
                headers);
    }

    /** Reads a record of the dead-letter topic. */
    public static DeadLetter read(ConsumerRecord<String, byte[]> record) {
        Headers h = record.headers();
        return new DeadLetter(text(h, SOURCE_TOPIC), Integer.parseInt(text(h, SOURCE_PARTITION)),
                Long.parseLong(text(h, SOURCE_OFFSET)), text(h, SOURCE_KEY), record.value(), text(h, REASON),
                text(h, WORKER), text(h, FAILED_AT));
    }

    private static void put(Headers headers, String name, String value) {
        headers.remove(name);
        headers.add(name, value.getBytes(StandardCharsets.UTF_8));
    }

    private static String text(Headers headers, String name) {
        Header h = headers.lastHeader(name);
        return h == null || h.value() == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }
}
