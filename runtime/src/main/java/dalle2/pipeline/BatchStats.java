package dalle2.pipeline;

import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * Durations of one worker's model calls: the model time, the size of the last batch, and how long the call
 * running now has taken (a wedged model shows as a growing number); each call's size goes to the batch-size
 * histogram of {@link StageMeters}. Written by the model thread, read by scrapes; each value is exact, a snapshot
 * across values may be one call apart.
 */
public final class BatchStats {

    private final StageMeters meters;
    private final AtomicLong calls = new AtomicLong();
    private final AtomicLong images = new AtomicLong();
    private final AtomicLong nanos = new AtomicLong();
    private volatile int lastSize;
    private volatile long runningSince;
    private volatile boolean running;

    BatchStats(StageMeters meters) {
        this.meters = meters;
    }

    /** One model call of {@code size} images, timed. */
    public <O> List<O> time(int size, Supplier<List<O>> call) {
        long start = System.nanoTime();
        runningSince = start;
        running = true;
        try {
            return call.get();
        } finally {
            running = false;
            nanos.addAndGet(System.nanoTime() - start);
            images.addAndGet(size);
            calls.incrementAndGet();
            lastSize = size;
            meters.batch(size);
        }
    }

    /**
     * @param calls        finished model calls
     * @param images       images over all calls
     * @param modelSeconds time spent in finished model calls
     * @param busySeconds  how long the model call running now has taken; 0 when idle
     */
    public record Snapshot(long calls, long images, double modelSeconds, int lastSize, double busySeconds) {
    }

    public Snapshot snapshot() {
        double busy = running ? (System.nanoTime() - runningSince) / 1e9 : 0;
        return new Snapshot(calls.get(), images.get(), nanos.get() / 1e9, lastSize, Math.max(0, busy));
    }
}
