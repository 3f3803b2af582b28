package dalle2.registry;

import dalle2.json.Json;
import dalle2.kafka.KafkaClients;
import dalle2.kafka.TopicReading;
import dalle2.kafka.Topics;
import dalle2.messages.ModelManifest;
import dalle2.messages.ModelPin;
import java.io.IOException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What this process knows of the {@value Topics#MODELS} topic: every published version, in publication order,
 * and each role's pin. It reads the whole topic from the beginning on its own thread and then follows it;
 * listeners hear of every change (on that thread).
 *
 * <p>A record it cannot read is logged and skipped: one bad announcement must not stop a pool from following
 * the good ones.
 */
public final class ModelCatalog implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ModelCatalog.class);
    private static final Duration POLL = Duration.ofMillis(200);

    /** Published versions per role, in the order they were announced (the last is the role's latest). */
    private final Map<String, LinkedHashMap<String, ModelManifest>> versions = new ConcurrentHashMap<>();
    private final Map<String, ModelPin> pins = new ConcurrentHashMap<>();
    private final List<Runnable> listeners = new CopyOnWriteArrayList<>();
    private final CountDownLatch caughtUp = new CountDownLatch(1);
    private final KafkaConsumer<String, byte[]> consumer;
    private final Thread reader;
    private volatile boolean closed;

    public ModelCatalog(String bootstrap, String clientRole) {
        this.consumer = KafkaClients.readerConsumer(bootstrap, KafkaClients.clientId(clientRole + "-models"));
        this.reader = new Thread(this::readLoop, clientRole + "-model-catalog");
        this.reader.setDaemon(true);
    }

    public ModelCatalog start() {
        reader.start();
        return this;
    }

    /** Waits until everything on the topic when this catalog started has been read. */
    public boolean awaitCaughtUp(Duration timeout) throws InterruptedException {
        return caughtUp.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Called on the catalog's thread after each batch of records that changed something. */
    public void onChange(Runnable listener) {
        listeners.add(listener);
    }

    public Optional<ModelPin> pin(String role) {
        return Optional.ofNullable(pins.get(role));
    }

    public Optional<ModelManifest> version(String role, String version) {
        synchronized (versions) {
            LinkedHashMap<String, ModelManifest> known = versions.get(role);
            return known == null ? Optional.empty() : Optional.ofNullable(known.get(version));
        }
    }

    /** The role's versions, oldest first. */
    public List<ModelManifest> versions(String role) {
        synchronized (versions) {
            LinkedHashMap<String, ModelManifest> known = versions.get(role);
            return known == null ? List.of() : List.copyOf(known.values());
        }
    }

    /** The role's most recently published version. */
    public Optional<ModelManifest> latest(String role) {
        List<ModelManifest> known = versions(role);
        return known.isEmpty() ? Optional.empty() : Optional.of(known.get(known.size() - 1));
    }

    /** The version a pin's stable entry names now: {@code latest} resolved, or the pinned version if known. */
    public Optional<ModelManifest> resolve(String role, String stableOrLatest) {
        return ModelPin.LATEST.equals(stableOrLatest) ? latest(role) : version(role, stableOrLatest);
    }

    private void readLoop() {
        try {
            // the topic may not exist yet where the catalog starts before any worker created it
            List<TopicPartition> partitions = TopicReading.partitionsOf(consumer, Topics.MODELS, () -> !closed);
            if (partitions == null) {
                return;
            }
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            while (!closed) {
                boolean changed = false;
                for (ConsumerRecord<String, byte[]> record : consumer.poll(POLL)) {
                    changed |= apply(record);
                }
                if (changed) {
                    listeners.forEach(ModelCatalog::notifySafely);
                }
                if (caughtUp.getCount() > 0 && TopicReading.reached(consumer, end)) {
                    caughtUp.countDown();
                    listeners.forEach(ModelCatalog::notifySafely);
                }
            }
        } catch (WakeupException e) {
            if (!closed) {
                LOG.error("model catalog woken up while open", e);
            }
        } catch (RuntimeException e) {
            LOG.error("model catalog stopped: {}", e.toString(), e);
        } finally {
            consumer.close(Duration.ofSeconds(2));
        }
    }

    private boolean apply(ConsumerRecord<String, byte[]> record) {
        String key = record.key();
        try {
            if (key == null || record.value() == null) {
                return false;
            }
            if (key.startsWith("pin/")) {
                ModelPin pin = Json.read(record.value(), ModelPin.class);
                pins.put(pin.role(), pin);
                return true;
            }
            if (key.startsWith("version/")) {
                ModelManifest manifest = Json.read(record.value(), ModelManifest.class);
                synchronized (versions) {
                    LinkedHashMap<String, ModelManifest> known = versions.computeIfAbsent(manifest.role(),
                            r -> new LinkedHashMap<>());
                    // a re-announcement of a known version does not make it the latest again
                    known.putIfAbsent(manifest.version(), manifest);
                }
                return true;
            }
            LOG.warn("skipping a {} record with key '{}': neither pin/ nor version/", Topics.MODELS, key);
        } catch (IOException | RuntimeException e) {
            LOG.warn("skipping an unreadable {} record (key '{}', offset {}): {}", Topics.MODELS, key,
                    record.offset(), e.toString());
        }
        return false;
    }

    private static void notifySafely(Runnable listener) {
        try {
            listener.run();
        } catch (RuntimeException e) {
            LOG.error("a model catalog listener failed: {}", e.toString(), e);
        }
    }

    @Override
    public void close() {
        closed = true;
        if (!reader.isAlive()) {
            consumer.close(Duration.ZERO);
            return;
        }
        consumer.wakeup();
        try {
            reader.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
