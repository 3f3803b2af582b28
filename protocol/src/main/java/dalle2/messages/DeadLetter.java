package dalle2.messages;

import java.nio.charset.StandardCharsets;

/**
 * A record a worker could not process, as it lies on the dead-letter topic: the original value byte for byte, and
 * where it came from and why it was refused ({@code dalle2.kafka.DeadLetters} writes and reads these as record
 * headers, so a tool can replay the value unchanged).
 *
 * @param topic     the topic the record was read from
 * @param partition its partition there
 * @param offset    its offset there
 * @param key       its original key (null when it had none)
 * @param value     its original value (null for a tombstone)
 * @param reason    why it was refused, one line
 * @param worker    {@code <pool>/<worker id>} that refused it
 * @param failedAt  ISO-8601 instant of the refusal
 */
public record DeadLetter(String topic, int partition, long offset, String key, byte[] value, String reason,
                         String worker, String failedAt) {

    public DeadLetter {
        InvalidMessageException.require(topic != null && !topic.isEmpty(), "topic", "topic is required");
        InvalidMessageException.require(partition >= 0, "partition", "partition must be >= 0");
        InvalidMessageException.require(offset >= 0, "offset", "offset must be >= 0");
        InvalidMessageException.require(reason != null && !reason.isEmpty(), "reason", "reason is required");
        GenerationRequest.checkInstant(failedAt, "failed_at");
    }

    /** The original value as UTF-8 text (lossy for binary values). */
    public String valueText() {
        return value == null ? null : new String(value, StandardCharsets.UTF_8);
    }
}
