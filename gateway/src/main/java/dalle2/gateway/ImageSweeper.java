package dalle2.gateway;

import dalle2.storage.ObjectStore;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deletes images older than the retention. Object-storage lifecycle rules would do this server-side, but S3Proxy
 * (the embedded and test store) answers them NotImplemented, so every gateway sweeps on its own thread; several
 * gateways sweeping at once only repeat idempotent deletes.
 */
final class ImageSweeper implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ImageSweeper.class);

    private final ObjectStore store;
    private final Duration retention;
    private final Clock clock;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "gateway-image-sweeper");
        t.setDaemon(true);
        return t;
    });

    ImageSweeper(ObjectStore store, Duration retention, Clock clock) {
        this.store = store;
        this.retention = retention;
        this.clock = clock;
    }

    ImageSweeper start(Duration interval) {
        timer.scheduleWithFixedDelay(this::sweepQuietly, interval.toMillis(), interval.toMillis(),
                TimeUnit.MILLISECONDS);
        return this;
    }

    /** Deletes what is past the retention; returns how many objects it deleted. */
    int sweep() {
        Instant cutoff = clock.instant().minus(retention);
        int deleted = 0;
        for (ObjectStore.ObjectInfo o : store.listInfo("")) {
            if (o.lastModified() != null && o.lastModified().isBefore(cutoff)) {
                store.delete(o.key());
                deleted++;
            }
        }
        return deleted;
    }

    private void sweepQuietly() {
        try {
            int deleted = sweep();
            if (deleted > 0) {
                LOG.info("deleted {} images older than {}", deleted, retention);
            }
        } catch (RuntimeException e) {
            LOG.warn("image sweep failed: {}", e.toString());
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
