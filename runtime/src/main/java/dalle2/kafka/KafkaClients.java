package dalle2.kafka;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The one place that builds Kafka producers, consumers and admin clients (Apache Kafka client 4.x, used directly:
 * vertx-kafka-client is built against 3.x, see CONTRIBUTING.md). Keys are job ids (String), values are message bytes
 * ({@code dalle2.messages.Messages}). Every setting this project changes from the client's default is a constant
 * here, with why.
 */
public final class KafkaClients {

    // ---- producer --------------------------------------------------------------------------------------------
    /** acks=all: a send completes only when every in-sync replica has the record; a 202 means durable. */
    public static final String ACKS = "all";
    /** Idempotent producer: retries never duplicate or reorder a record within a partition. */
    public static final boolean ENABLE_IDEMPOTENCE = true;
    /** At most 5 unacknowledged batches per connection: the largest that keeps ordering with idempotence. */
    public static final int MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION = 5;
    /** Wait at most 2 ms to fill a batch (default 5 in 4.x): submit latency matters more than batch size here. */
    public static final int LINGER_MS = 2;
    /**
     * A worker's producer does not linger (default 5 in 4.x): each job passes several serial acks=all hops
     * (started, finished, embeddings, succeeded), and a lone job would pay the linger at every one. Records sent
     * while a request is in flight still share the next one, so a burst is batched anyway.
     */
    public static final int WORKER_LINGER_MS = 0;
    /** One broker request may take 10 s (default 30 s) before the client retries it. */
    public static final int REQUEST_TIMEOUT_MS = 10_000;
    /** A send fails after 30 s of retries (default 120 s), so a gateway answers 503 in bounded time. */
    public static final int DELIVERY_TIMEOUT_MS = 30_000;
    /** A send blocks at most 10 s waiting for metadata or buffer space (default 60 s). */
    public static final int MAX_BLOCK_MS = 10_000;
    /** 64 KB batches (default 16 KB): an embeddings message of a full job (8 × 512 floats) is ~22 KB. */
    public static final int BATCH_SIZE_BYTES = 64 * 1024;

    // ---- the gateway's producer (sends from the Vert.x event loop) --------------------------------------------
    /**
     * The gateway calls {@code send} on its event loop, which must never wait: a send that would block (no metadata
     * for the topic, the buffer full while the broker is away) fails at once and the request is answered 503.
     */
    public static final int GATEWAY_MAX_BLOCK_MS = 0;
    /**
     * The gateway keeps its two topics' metadata however long it sends nothing (default 5 min, after which a send
     * would have to wait for metadata again, and with {@link #GATEWAY_MAX_BLOCK_MS} fail).
     */
    public static final int GATEWAY_METADATA_MAX_IDLE_MS = Integer.MAX_VALUE;
    /**
     * A gateway's write gives up after 20 s (the workers' 30 s): a client waiting for its 202 gets the 503 before
     * its HTTP request or connection times out ({@link #REQUEST_TIMEOUT_MS} plus linger is the least Kafka allows).
     */
    public static final int GATEWAY_DELIVERY_TIMEOUT_MS = 20_000;

    // ---- group consumers (the worker pools) -------------------------------------------------------------------
    /** The KIP-848 group protocol: incremental, server-side assignment; faster and smoother rebalances. */
    public static final String GROUP_PROTOCOL = "consumer";
    /** Offsets are committed by the worker only after its outputs are acknowledged (at-least-once). */
    public static final boolean ENABLE_AUTO_COMMIT = false;
    /** A new group starts at the oldest record: jobs submitted before the first worker started are still done. */
    public static final String AUTO_OFFSET_RESET = "earliest";
    /**
     * The longest gap between polls before the consumer leaves its group (default 5 min). The poll loop never
     * runs model work (it pauses partitions instead), so this is only a backstop against a wedged process.
     */
    public static final int MAX_POLL_INTERVAL_MS = 300_000;
    /** At most 32 records per poll (default 500): a worker takes only what its batcher can soon start. */
    public static final int MAX_POLL_RECORDS = 32;

    /**
     * How long a poll of {@code c} may wait now: {@code timeout}, or nothing while every assigned partition is
     * paused. The KIP-848 consumer (kafka-clients 4.4) spins inside {@code poll(timeout)} while its partitions are
     * paused and its fetch buffer still holds records of them: half a core on the polling thread, against 2-4 % when
     * it polls without waiting (CONTRIBUTING.md). A loop that gets zero waits on its own terms.
     */
    public static Duration pollWait(Consumer<?, ?> c, Duration timeout) {
        Set<TopicPartition> assignment = c.assignment();
        return !assignment.isEmpty() && c.paused().containsAll(assignment) ? Duration.ZERO : timeout;
    }

    // ---- admin ------------------------------------------------------------------------------------------------
    /** Admin calls (topic creation, readiness probes) give up after 5 s. */
    public static final int ADMIN_REQUEST_TIMEOUT_MS = 5_000;
    public static final int ADMIN_API_TIMEOUT_MS = 10_000;

    private KafkaClients() {
    }

    /** A durable, idempotent producer of job-keyed messages. */
    public static KafkaProducer<String, byte[]> producer(String bootstrap, String clientId) {
        return producer(bootstrap, clientId, Map.of());
    }

    /** The producer of a worker pool member: {@link #producer} without linger ({@link #WORKER_LINGER_MS}). */
    public static KafkaProducer<String, byte[]> workerProducer(String bootstrap, String clientId) {
        return producer(bootstrap, clientId, Map.of(ProducerConfig.LINGER_MS_CONFIG, WORKER_LINGER_MS));
    }

    private static KafkaProducer<String, byte[]> producer(String bootstrap, String clientId,
                                                          Map<String, Object> overrides) {
        Properties p = common(bootstrap, clientId);
        p.put(ProducerConfig.ACKS_CONFIG, ACKS);
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, ENABLE_IDEMPOTENCE);
        p.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION);
        p.put(ProducerConfig.LINGER_MS_CONFIG, LINGER_MS);
        p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, REQUEST_TIMEOUT_MS);
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, DELIVERY_TIMEOUT_MS);
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, MAX_BLOCK_MS);
        p.put(ProducerConfig.BATCH_SIZE_CONFIG, BATCH_SIZE_BYTES);
        p.putAll(overrides);
        return new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
    }

    /**
     * {@link #producer} whose {@code send} never blocks the calling thread ({@link #GATEWAY_MAX_BLOCK_MS}): for the
     * gateway's event loop. Call {@link #awaitMetadata} for its topics before the first send.
     */
    public static KafkaProducer<String, byte[]> gatewayProducer(String bootstrap, String clientId) {
        return producer(bootstrap, clientId, Map.of(ProducerConfig.MAX_BLOCK_MS_CONFIG, GATEWAY_MAX_BLOCK_MS,
                ProducerConfig.METADATA_MAX_IDLE_CONFIG, GATEWAY_METADATA_MAX_IDLE_MS,
                ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, GATEWAY_DELIVERY_TIMEOUT_MS));
    }

    /**
     * Waits until {@code producer} has the partitions of {@code topics}: a producer that may not block gets them
     * only from a metadata request it started itself, so this asks again until they are there.
     */
    public static void awaitMetadata(KafkaProducer<String, byte[]> producer, List<String> topics, long timeoutMs)
            throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        for (String topic : topics) {
            while (true) {
                try {
                    producer.partitionsFor(topic);
                    break;
                } catch (TimeoutException e) {
                    if (System.nanoTime() > deadline) {
                        throw new TimeoutException("no metadata for " + topic + " after " + timeoutMs + " ms");
                    }
                    Thread.sleep(20);
                }
            }
        }
    }

    /** A member of a worker pool's consumer group, with manual commits. */
    public static KafkaConsumer<String, byte[]> groupConsumer(String bootstrap, String groupId, String clientId) {
        Properties p = common(bootstrap, clientId);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
        p.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, GROUP_PROTOCOL);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, ENABLE_AUTO_COMMIT);
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, AUTO_OFFSET_RESET);
        p.put(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, MAX_POLL_INTERVAL_MS);
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, MAX_POLL_RECORDS);
        return new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer());
    }

    /**
     * A trainer worker runs one job at a time for minutes to days: a poll hands it at most one record, so that
     * no second job is fetched and held (uncommitted) by a worker that is busy.
     */
    public static final int TRAINER_MAX_POLL_RECORDS = 1;

    /**
     * A member of the trainer workers' group ({@link Topics#TRAINER_GROUP}), with manual commits. Its poll loop
     * keeps polling, with its partitions paused, while a training runs, so {@link #MAX_POLL_INTERVAL_MS} applies
     * to the loop, not to the training.
     */
    public static KafkaConsumer<String, byte[]> trainerConsumer(String bootstrap, String clientId) {
        Properties p = common(bootstrap, clientId);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, Topics.TRAINER_GROUP);
        p.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, GROUP_PROTOCOL);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, ENABLE_AUTO_COMMIT);
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, AUTO_OFFSET_RESET);
        p.put(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, MAX_POLL_INTERVAL_MS);
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, TRAINER_MAX_POLL_RECORDS);
        return new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer());
    }

    /**
     * A consumer outside any group, for reading a whole topic with {@code assign} + {@code seekToBeginning}
     * (the status view every gateway and worker keeps). Commits nothing.
     */
    public static KafkaConsumer<String, byte[]> readerConsumer(String bootstrap, String clientId) {
        Properties p = common(bootstrap, clientId);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, AUTO_OFFSET_RESET);
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 1000);
        return new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer());
    }

    public static Admin admin(String bootstrap, String clientId) {
        Properties p = common(bootstrap, clientId);
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, ADMIN_REQUEST_TIMEOUT_MS);
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, ADMIN_API_TIMEOUT_MS);
        return Admin.create(p);
    }

    /** A client id unique to this process and role, for broker logs and quotas. */
    public static String clientId(String role) {
        return "dalle2-" + role + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    private static Properties common(String bootstrap, String clientId) {
        if (bootstrap == null || bootstrap.isBlank()) {
            throw new IllegalArgumentException("a Kafka bootstrap address (HOST:PORT) is required");
        }
        Properties p = new Properties();
        p.putAll(Map.of(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                CommonClientConfigs.CLIENT_ID_CONFIG, clientId));
        return p;
    }
}
