package dalle2.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

class OffsetTrackerTest {

    private static final TopicPartition P0 = new TopicPartition("t", 0);
    private static final TopicPartition P1 = new TopicPartition("t", 1);

    @Test
    void anOffsetIsCommittableOnlyUpToTheOldestUnfinishedRecord() {
        OffsetTracker tracker = new OffsetTracker();
        for (long o = 10; o < 14; o++) {
            tracker.received(P0, o);
        }
        tracker.done(P0, 11);
        tracker.done(P0, 12);
        assertTrue(tracker.committable().isEmpty(), "record 10 is still running");
        assertEquals(2, tracker.unfinished());
        tracker.done(P0, 10);
        assertEquals(Map.of(P0, new OffsetAndMetadata(13)), tracker.committable());
        assertTrue(tracker.committable().isEmpty(), "nothing new to commit");
        tracker.done(P0, 13);
        assertEquals(Map.of(P0, new OffsetAndMetadata(14)), tracker.committable());
        assertEquals(0, tracker.unfinished());
    }

    @Test
    void revokedPartitionsAreForgottenAndLateCompletionsIgnored() {
        OffsetTracker tracker = new OffsetTracker();
        tracker.received(P0, 0);
        tracker.received(P1, 0);
        tracker.revoke(List.of(P0));
        tracker.done(P0, 0);
        tracker.done(P1, 0);
        assertEquals(Map.of(P1, new OffsetAndMetadata(1)), tracker.committable());
    }
}
