package dalle2.messages;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;

/**
 * A record a worker could not process, on the dead-letter topic: where it came from, its original key and value
 * (base64, since a poison value need not be text) and why it was refused.
 */
public record DeadLetter(
        Integer schemaVersion,
        String topic,
        Integer partition,
        Long offset,
        String key,
        String valueBase64,
        String reason,
        String worker,
        String failedAt) {

    public DeadLetter {
        schemaVersion = SchemaVersions.check(schemaVersion);
        InvalidMessageException.require(topic != null && !topic.isEmpty(), "topic", "topic is required");
        InvalidMessageException.require(partition != null && partition >= 0, "partition", "partition is required");
        InvalidMessageException.require(offset != null && offset >= 0, "offset", "offset is required");
        InvalidMessageException.require(reason != null && !reason.isEmpty(), "reason", "reason is required");
        GenerationRequest.checkInstant(failedAt, "failed_at");
    }

    public static DeadLetter of(String topic, int partition, long offset, String key, byte[] value, String reason,
                                String worker) {
        return new DeadLetter(SchemaVersions.CURRENT, topic, partition, offset, key,
                value == null ? null : Base64.getEncoder().encodeToString(value), reason, worker,
                Instant.now().toString());
    }

    public byte[] value() {
        return valueBase64 == null ? null : Base64.getDecoder().decode(valueBase64);
    }

    /** The original value as UTF-8 text (lossy for binary values). */
    public String valueText() {
        byte[] v = value();
        return v == null ? null : new String(v, StandardCharsets.UTF_8);
    }
}
