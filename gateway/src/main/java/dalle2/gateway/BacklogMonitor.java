package dalle2.gateway;

import dalle2.kafka.Topics;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The prior pool's backlog: requests on the requests topic past the {@code prior} group's committed offsets (from
 * the earliest offset where the group has none yet). Measured on its own thread every refresh period, never per
 * request; a failed measurement keeps the last figure (a Kafka hiccup does not close the gate).
 */
final class BacklogMonitor implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(BacklogMonitor.class);
    private static final long ADMIN_TIMEOUT_MS = 5_000;

    private final Admin admin;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "gateway-backlog");
        t.setDaemon(true);
        return t;
    });
    private volatile long backlog;

    BacklogMonitor(Admin admin) {
        this.admin = admin;
    }

    BacklogMonitor start(Duration refresh) {
        timer.scheduleWithFixedDelay(this::refresh, 0, refresh.toMillis(), TimeUnit.MILLISECONDS);
        return this;
    }

    /** Requests waiting for the prior pool, as last measured. */
    long backlog() {
        return backlog;
    }

    void refresh() {
        try {
            backlog = measure();
        } catch (Exception e) {
            LOG.debug("cannot measure the prior backlog: {}", e.toString());
        }
    }

    private long measure() throws Exception {
        TopicDescription topic = admin.describeTopics(List.of(Topics.REQUESTS)).allTopicNames()
                .get(ADMIN_TIMEOUT_MS, TimeUnit.MILLISECONDS).get(Topics.REQUESTS);
        Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
        Map<TopicPartition, OffsetSpec> earliest = new HashMap<>();
        topic.partitions().forEach(p -> {
            latest.put(new TopicPartition(Topics.REQUESTS, p.partition()), OffsetSpec.latest());
            earliest.put(new TopicPartition(Topics.REQUESTS, p.partition()), OffsetSpec.earliest());
        });
        Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> ends = admin.listOffsets(latest).all()
                .get(ADMIN_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> starts = admin.listOffsets(earliest).all()
                .get(ADMIN_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(Topics.PRIOR_GROUP)
                .partitionsToOffsetAndMetadata().get(ADMIN_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        long total = 0;
        for (Map.Entry<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> end : ends.entrySet()) {
            OffsetAndMetadata c = committed.get(end.getKey());
            long from = Math.max(starts.get(end.getKey()).offset(), c == null ? 0 : c.offset());
            total += Math.max(0, end.getValue().offset() - from);
        }
        return total;
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
