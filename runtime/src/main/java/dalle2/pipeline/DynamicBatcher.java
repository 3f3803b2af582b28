package dalle2.pipeline;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;

/**
 * Dynamic batching: the model thread takes the oldest waiting item, then waits at most {@code maxWait} for more
 * items with the same batch key (equal sampling settings), up to {@code maxBatch}. Items of other keys keep their
 * place in the queue for the next batch. Thread-safe: producers call {@link #add}, one consumer
 * {@link #nextBatch}.
 *
 * <p>A batch waits for batch-mates only while more items are on their way ({@link #expectMore}): waiting when the
 * source has nothing more to give would only add {@code maxWait} to a lone job's latency. A producer that never
 * says is assumed to have more.
 */
public final class DynamicBatcher<T> {

    private final int maxBatch;
    private final long maxWaitNanos;
    private final Function<T, ?> key;
    private final ArrayDeque<T> queue = new ArrayDeque<>();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition added = lock.newCondition();
    private boolean moreExpected = true;

    public DynamicBatcher(int maxBatch, Duration maxWait, Function<T, ?> key) {
        if (maxBatch < 1) {
            throw new IllegalArgumentException("max batch must be >= 1, got " + maxBatch);
        }
        if (maxWait.isNegative()) {
            throw new IllegalArgumentException("max wait must be >= 0, got " + maxWait);
        }
        this.maxBatch = maxBatch;
        this.maxWaitNanos = maxWait.toNanos();
        this.key = key;
    }

    public int maxBatch() {
        return maxBatch;
    }

    public void add(T item) {
        lock.lock();
        try {
            queue.addLast(item);
            added.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Whether more items are on their way: true while the producer is handing over items it has fetched or its
     * source still holds unread ones; false once it has nothing more, which ends a batch's wait at once.
     */
    public void expectMore(boolean more) {
        lock.lock();
        try {
            if (moreExpected != more) {
                moreExpected = more;
                added.signalAll();
            }
        } finally {
            lock.unlock();
        }
    }

    public int size() {
        lock.lock();
        try {
            return queue.size();
        } finally {
            lock.unlock();
        }
    }

    /**
     * The next batch (1..maxBatch compatible items, oldest first), or an empty list when nothing arrived within
     * {@code idle} (so the caller can check whether to stop).
     */
    public List<T> nextBatch(Duration idle) throws InterruptedException {
        List<T> batch = new ArrayList<>();
        lock.lock();
        try {
            long idleNanos = idle.toNanos();
            while (queue.isEmpty()) {
                if (idleNanos <= 0) {
                    return batch;
                }
                idleNanos = added.awaitNanos(idleNanos);
            }
            T first = queue.pollFirst();
            batch.add(first);
            Object batchKey = key.apply(first);
            long deadline = System.nanoTime() + maxWaitNanos;
            while (true) {
                for (Iterator<T> it = queue.iterator(); it.hasNext() && batch.size() < maxBatch; ) {
                    T item = it.next();
                    if (Objects.equals(batchKey, key.apply(item))) {
                        it.remove();
                        batch.add(item);
                    }
                }
                long left = deadline - System.nanoTime();
                if (batch.size() >= maxBatch || left <= 0 || !moreExpected) {
                    return batch;
                }
                added.awaitNanos(Math.min(left, TimeUnit.MILLISECONDS.toNanos(50)));
            }
        } finally {
            lock.unlock();
        }
    }
}
