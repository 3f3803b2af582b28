package dalle2.pipeline;

import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A stage's I/O threads (storing images, producing results) and the timer that waits out retry backoffs before
 * handing a try to them. A try handed over while closing is dropped: its record was not committed and will be
 * redelivered.
 */
final class IoThreads {

    private static final Logger LOG = LoggerFactory.getLogger(IoThreads.class);

    private final String workerId;
    private final ExecutorService io;
    /** Only waits out retry backoffs, then hands the try to {@link #io}. */
    private final ScheduledExecutorService retryTimer;

    IoThreads(String threadNamePrefix, String workerId, int threads) {
        this.workerId = workerId;
        this.io = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, threadNamePrefix + "-io");
            t.setDaemon(true);
            return t;
        });
        this.retryTimer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, threadNamePrefix + "-retry");
            t.setDaemon(true);
            return t;
        });
    }

    /** Runs a task on an I/O thread now. */
    void execute(Runnable task) {
        io.execute(task);
    }

    /** Runs a task on an I/O thread, after {@code delay} when positive. */
    void later(Duration delay, Runnable task) {
        try {
            if (delay.isZero() || delay.isNegative()) {
                io.execute(task);
            } else {
                retryTimer.schedule(() -> {
                    try {
                        io.execute(task);
                    } catch (RejectedExecutionException closing) {
                        LOG.warn("{}: closing; a retried try is dropped and its record will be redelivered",
                                workerId);
                    }
                }, delay.toMillis(), TimeUnit.MILLISECONDS);
            }
        } catch (RejectedExecutionException closing) {
            LOG.warn("{}: closing; a try is dropped and its record will be redelivered", workerId);
        }
    }

    /** Drops the tries waiting out a backoff, then lets the running ones finish (up to {@code timeout}). */
    void close(Duration timeout) {
        retryTimer.shutdownNow();
        io.shutdown();
        try {
            io.awaitTermination(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
