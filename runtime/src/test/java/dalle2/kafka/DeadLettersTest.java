package dalle2.kafka;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dalle2.messages.DeadLetter;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.api.Test;

class DeadLettersTest {

    private static ConsumerRecord<String, byte[]> consumed(ProducerRecord<String, byte[]> p, long offset) {
        return new ConsumerRecord<>(p.topic(), 0, offset, 0L, TimestampType.CREATE_TIME, -1, -1, p.key(), p.value(),
                p.headers(), Optional.empty());
    }

    @Test
    void aDeadLetterKeepsTheOriginalBytesAndHeadersAndNamesReasonSourceTopicPartitionAndOffset() {
        byte[] poison = {(byte) 0xff, 0x00, '{'};
        RecordHeaders original = new RecordHeaders();
        original.add("traceparent", "00-abc".getBytes(StandardCharsets.UTF_8));
        ConsumerRecord<String, byte[]> source = new ConsumerRecord<>(Topics.REQUESTS, 3, 17L, 0L,
                TimestampType.CREATE_TIME, -1, -1, "job-x", poison, original, Optional.empty());

        ProducerRecord<String, byte[]> letter = DeadLetters.of(source, "job-x", "malformed JSON", "prior/prior-1");
        assertEquals(Topics.DEAD_LETTERS, letter.topic());
        assertEquals("job-x", letter.key());
        assertArrayEquals(poison, letter.value(), "the value is the original bytes, not an envelope");
        assertEquals("00-abc", new String(letter.headers().lastHeader("traceparent").value(), StandardCharsets.UTF_8));

        DeadLetter read = DeadLetters.read(consumed(letter, 0));
        assertEquals(Topics.REQUESTS, read.topic());
        assertEquals(3, read.partition());
        assertEquals(17L, read.offset());
        assertEquals("job-x", read.key());
        assertArrayEquals(poison, read.value());
        assertEquals("malformed JSON", read.reason());
        assertEquals("prior/prior-1", read.worker());
    }

    @Test
    void aKeylessTombstoneStaysKeylessAndValueless() {
        ConsumerRecord<String, byte[]> source = new ConsumerRecord<>(Topics.EMBEDDINGS, 0, 5L, null, null);
        DeadLetter read = DeadLetters.read(consumed(DeadLetters.of(source, null, "empty message", "decoder/d-0"), 0));
        assertNull(read.key());
        assertNull(read.value());
        assertEquals(5L, read.offset());
    }
}
