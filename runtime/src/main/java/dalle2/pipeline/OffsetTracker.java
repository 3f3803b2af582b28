package dalle2.pipeline;

import java.util.Collection;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/**
 * At-least-once bookkeeping of a consumer: records finish out of order (batches of different jobs), but a
 * partition's offset may only be committed up to its oldest record that is not finished. Confined to the poll
 * thread.
 */
public final class OffsetTracker {

    /** Per partition: offsets received and not yet committed → finished? */
    private final Map<TopicPartition, TreeMap<Long, Boolean>> pending = new HashMap<>();
    private final Map<TopicPartition, Long> lastCommittable = new HashMap<>();

    public void received(TopicPartition tp, long offset) {
        pending.computeIfAbsent(tp, k -> new TreeMap<>()).put(offset, Boolean.FALSE);
    }

    /** Marks a record finished; unknown partitions (revoked meanwhile) are ignored. */
    public void done(TopicPartition tp, long offset) {
        TreeMap<Long, Boolean> offsets = pending.get(tp);
        if (offsets != null && offsets.containsKey(offset)) {
            offsets.put(offset, Boolean.TRUE);
        }
    }

    /** Records received and not finished, all partitions together. */
    public int unfinished() {
        int n = 0;
        for (TreeMap<Long, Boolean> offsets : pending.values()) {
            for (Boolean finished : offsets.values()) {
                if (!finished) {
                    n++;
                }
            }
        }
        return n;
    }

    /**
     * The offsets to commit now (next offset to read, per partition), only for partitions that advanced since the
     * last call. Finished records at the head of each partition are forgotten.
     */
    public Map<TopicPartition, OffsetAndMetadata> committable() {
        Map<TopicPartition, OffsetAndMetadata> result = new HashMap<>();
        for (Map.Entry<TopicPartition, TreeMap<Long, Boolean>> e : pending.entrySet()) {
            Long next = null;
            for (Iterator<Map.Entry<Long, Boolean>> it = e.getValue().entrySet().iterator(); it.hasNext(); ) {
                Map.Entry<Long, Boolean> head = it.next();
                if (!head.getValue()) {
                    break;
                }
                next = head.getKey() + 1;
                it.remove();
            }
            if (next != null && !next.equals(lastCommittable.get(e.getKey()))) {
                lastCommittable.put(e.getKey(), next);
                result.put(e.getKey(), new OffsetAndMetadata(next));
            }
        }
        return result;
    }

    /** Forgets every partition (the consumer that owned them is gone). */
    public void revokeAll() {
        pending.clear();
        lastCommittable.clear();
    }

    /** Forgets revoked partitions (their unfinished records will be redelivered to the new owner). */
    public void revoke(Collection<TopicPartition> partitions) {
        for (TopicPartition tp : partitions) {
            pending.remove(tp);
            lastCommittable.remove(tp);
        }
    }
}
