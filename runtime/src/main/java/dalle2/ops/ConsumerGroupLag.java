package dalle2.ops;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/**
 * The lag of each watched pool's consumer group on its input topic, as Kafka's own tools and KEDA's scaler count
 * it: the log-end offset minus the group's committed offset, summed over the topic's partitions (from the
 * earliest offset for a partition the group never committed). Asked from the brokers at every scrape, since the
 * worker's own view ({@code dalle2_worker_consumer_lag}, from its fetches) goes stale while its partitions are
 * paused, which is when the lag grows.
 */
final class ConsumerGroupLag {

    /** Longest a scrape waits for the brokers; the gauge keeps its last value when they do not answer. */
    static final int TIMEOUT_MS = 2_000;

    private final Admin admin;
    /** Input topic of each consumer group watched. */
    private final Map<String, String> topics = new ConcurrentHashMap<>();
    private final Map<String, Double> lags = new ConcurrentHashMap<>();

    ConsumerGroupLag(Admin admin) {
        this.admin = admin;
    }

    /** Exports {@code dalle2_consumer_group_lag{pool}} for a group reading {@code topic}. */
    void watch(MeterRegistry registry, String group, String topic) {
        if (topics.putIfAbsent(group, topic) == null) {
            lags.put(group, Double.NaN);
            Gauge.builder("dalle2.consumer.group.lag", lags, m -> m.getOrDefault(group, Double.NaN))
                    .description("records of the input topic the pool's consumer group has not committed yet")
                    .tag("pool", group)
                    .register(registry);
        }
    }

    /** Asks the brokers for every watched group's lag (blocks up to {@value #TIMEOUT_MS} ms per group). */
    void refresh() {
        topics.forEach((group, topic) -> {
            try {
                lags.put(group, (double) lagOf(group, topic));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (ExecutionException | TimeoutException | RuntimeException e) {
                // the last value stands; readiness reports an unreachable Kafka
            }
        });
    }

    private long lagOf(String group, String topic)
            throws InterruptedException, ExecutionException, TimeoutException {
        TopicDescription description = admin.describeTopics(java.util.List.of(topic)).allTopicNames()
                .get(TIMEOUT_MS, TimeUnit.MILLISECONDS).get(topic);
        Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
        description.partitions().forEach(p -> latest.put(new TopicPartition(topic, p.partition()), OffsetSpec.latest()));
        Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(group)
                .partitionsToOffsetAndMetadata().get(TIMEOUT_MS, TimeUnit.MILLISECONDS);
        Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> ends = admin.listOffsets(latest).all()
                .get(TIMEOUT_MS, TimeUnit.MILLISECONDS);
        Map<TopicPartition, OffsetSpec> uncommitted = new HashMap<>();
        long lag = 0;
        for (TopicPartition tp : latest.keySet()) {
            OffsetAndMetadata offset = committed.get(tp);
            if (offset == null) {
                uncommitted.put(tp, OffsetSpec.earliest());
            } else {
                lag += Math.max(0, ends.get(tp).offset() - offset.offset());
            }
        }
        if (!uncommitted.isEmpty()) {
            Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> starts = admin.listOffsets(uncommitted).all()
                    .get(TIMEOUT_MS, TimeUnit.MILLISECONDS);
            for (TopicPartition tp : uncommitted.keySet()) {
                lag += Math.max(0, ends.get(tp).offset() - starts.get(tp).offset());
            }
        }
        return lag;
    }
}
