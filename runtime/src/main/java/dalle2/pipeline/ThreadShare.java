package dalle2.pipeline;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;

/**
 * Shares a budget of compute threads among the model calls that run at the same time on different threads (a
 * prior and a decoder worker in one JVM).
 *
 * <p>libtorch's intra-op thread count is per calling thread (an OpenMP setting of that thread), so two model
 * threads that each use all cores run twice as many threads as there are cores: every parallel op then waits at
 * its barrier for a thread the scheduler has put aside, and both calls slow down far more than by half. A call
 * takes its share — the budget divided by the calls running now, at least 1 — when it starts and again at each
 * step ({@link Lease#rebalance}), so a call left alone gets every thread back at its next step. How a count is
 * applied to the calling thread is the model runtime's business (the workers pass libtorch's per-thread
 * setting); this class only counts.
 */
public final class ThreadShare {

    /** A share that never changes a thread count: for stages whose model does not run on libtorch. */
    public static final ThreadShare UNSHARED = new ThreadShare(1, threads -> { });

    private static ThreadShare processWide;

    private final int budget;
    private final IntConsumer applyToCallingThread;
    private final AtomicInteger running = new AtomicInteger();
    /** The count this thread last applied (0: never set here). */
    private final ThreadLocal<int[]> applied = ThreadLocal.withInitial(() -> new int[1]);

    public ThreadShare(int budget, IntConsumer applyToCallingThread) {
        if (budget < 1) {
            throw new IllegalArgumentException("budget must be >= 1, got " + budget);
        }
        this.budget = budget;
        this.applyToCallingThread = applyToCallingThread;
    }

    /**
     * The one share of this process, made by the first caller: every stage worker in a JVM (the embedded stack
     * runs several) must count against the same budget.
     */
    public static synchronized ThreadShare processWide(int budget, IntConsumer applyToCallingThread) {
        if (processWide == null) {
            processWide = new ThreadShare(budget, applyToCallingThread);
        }
        return processWide;
    }

    public int budget() {
        return budget;
    }

    /** Model calls holding a lease now. */
    public int running() {
        return running.get();
    }

    /** The threads a call gets while {@code calls} run at once. */
    int shareOf(int calls) {
        return Math.max(1, budget / Math.max(1, calls));
    }

    /** Starts a model call on this thread: takes its share now. Close it when the call returns. */
    public Lease begin() {
        return begin(Integer.MAX_VALUE);
    }

    /**
     * Starts a model call that wants at most {@code wanted} threads (a small batch runs faster on fewer threads
     * than on all of them: see the stage workers' {@code threadsWanted}); it takes the smaller of that and its share.
     */
    public Lease begin(int wanted) {
        running.incrementAndGet();
        Lease lease = new Lease(Math.max(1, wanted));
        lease.rebalance();
        return lease;
    }

    /** One model call's hold on the share; used on the thread that began it. */
    public final class Lease implements AutoCloseable {
        private final int wanted;
        private boolean closed;

        private Lease(int wanted) {
            this.wanted = wanted;
        }

        /** Takes this call's share as of now (cheap when it has not changed); call it between steps. */
        public void rebalance() {
            if (closed) {
                return;
            }
            int threads = Math.min(wanted, shareOf(running.get()));
            int[] last = applied.get();
            if (last[0] != threads) {
                applyToCallingThread.accept(threads);
                last[0] = threads;
            }
        }

        /** The threads this call uses now. */
        public int threads() {
            return applied.get()[0];
        }

        @Override
        public void close() {
            if (!closed) {
                closed = true;
                running.decrementAndGet();
            }
        }
    }
}
