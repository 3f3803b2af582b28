package dalle2.pipeline;

import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.Supplier;

/**
 * Sizes and durations of one worker's model calls, for its {@code /metrics}: a batch-size histogram, the model
 * time, the size of the last batch, and how long the call running now has taken (a wedged model shows as a
 * growing number). Written by the model thread, read by scrapes; each value is exact, a snapshot across values
 * may be one call apart.
 */
public final class BatchStats {

    /** Upper bounds (images per model call) of the histogram's buckets; larger batches fall in +Inf. */
    private static final int[] SIZE_BOUNDS = {1, 2, 4, 8, 16, 32, 64};

    private final AtomicLongArray perBucket = new AtomicLongArray(SIZE_BOUNDS.length + 1);
    private final AtomicLong images = new AtomicLong();
    private final AtomicLong nanos = new AtomicLong();
    private volatile int lastSize;
    private volatile long runningSince;
    private volatile boolean running;

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
            lastSize = size;
            perBucket.incrementAndGet(bucketOf(size));
        }
    }

    private static int bucketOf(int size) {
        for (int i = 0; i < SIZE_BOUNDS.length; i++) {
            if (size <= SIZE_BOUNDS[i]) {
                return i;
            }
        }
        return SIZE_BOUNDS.length;
    }

    /**
     * @param bounds       upper bounds of the buckets, ascending, without +Inf
     * @param cumulative   calls with at most bounds[i] images (Prometheus buckets), then all calls (+Inf)
     * @param images       images over all calls (the histogram's sum)
     * @param modelSeconds time spent in finished model calls
     * @param busySeconds  how long the model call running now has taken; 0 when idle
     */
    public record Snapshot(int[] bounds, long[] cumulative, long images, double modelSeconds, int lastSize,
                           double busySeconds) {
        public long calls() {
            return cumulative[cumulative.length - 1];
        }
    }

    public Snapshot snapshot() {
        long[] cumulative = new long[SIZE_BOUNDS.length + 1];
        long sum = 0;
        for (int i = 0; i < cumulative.length; i++) {
            sum += perBucket.get(i);
            cumulative[i] = sum;
        }
        double busy = running ? (System.nanoTime() - runningSince) / 1e9 : 0;
        return new Snapshot(SIZE_BOUNDS.clone(), cumulative, images.get(), nanos.get() / 1e9, lastSize,
                Math.max(0, busy));
    }
}
