package dalle2.pipeline;

import java.time.Duration;

/**
 * Bounded exponential backoff for the transient failures of a worker's I/O (storing an image, writing a job's
 * output): attempt 1 runs at once, attempt {@code k + 1} after waiting {@code initialBackoff · 2^(k−1)}, capped
 * at {@code maxBackoff}; after {@code attempts} tries the job fails. Model errors are never retried.
 *
 * @param attempts       tries in all, 1 (no retry) to {@value #MAX_ATTEMPTS}
 * @param initialBackoff wait before the second try
 * @param maxBackoff     longest single wait
 */
public record RetryPolicy(int attempts, Duration initialBackoff, Duration maxBackoff) {

    public static final int MAX_ATTEMPTS = 20;
    /** Longest sum of waits a policy may add to one job: a job must fail in bounded time. */
    public static final Duration MAX_TOTAL_BACKOFF = Duration.ofMinutes(5);

    /**
     * 16 tries, waiting 0.5, 1, 2, 4, 8 s and then 15 s between them (165.5 s in all): rides out a storage outage
     * of a minute or two (a restart, a failover) — an outage is transient, so the job must not fail for it — and
     * still fails a job whose storage stays away within three minutes.
     */
    public static final RetryPolicy DEFAULT = new RetryPolicy(16, Duration.ofMillis(500), Duration.ofSeconds(15));
    /** One try: the first failure fails the job. */
    public static final RetryPolicy NONE = new RetryPolicy(1, Duration.ZERO, Duration.ZERO);

    public RetryPolicy {
        if (attempts < 1 || attempts > MAX_ATTEMPTS) {
            throw new IllegalArgumentException("retry attempts must be in 1.." + MAX_ATTEMPTS + ", got " + attempts);
        }
        if (initialBackoff == null || maxBackoff == null || initialBackoff.isNegative()
                || maxBackoff.compareTo(initialBackoff) < 0) {
            throw new IllegalArgumentException("need 0 <= initial backoff <= max backoff, got " + initialBackoff
                    + " and " + maxBackoff);
        }
        Duration total = Duration.ZERO;
        for (int k = 1; k < attempts; k++) {
            total = total.plus(wait(k, initialBackoff, maxBackoff));
        }
        if (total.compareTo(MAX_TOTAL_BACKOFF) > 0) {
            throw new IllegalArgumentException("retries would wait " + total + " in all; at most "
                    + MAX_TOTAL_BACKOFF + " is allowed");
        }
    }

    /** Whether a try that failed as try number {@code attempt} (1-based) may be followed by another. */
    public boolean mayRetryAfter(int attempt) {
        return attempt < attempts;
    }

    /** How long to wait after failed try number {@code attempt} (1-based) before the next one. */
    public Duration backoffAfter(int attempt) {
        if (attempt < 1) {
            throw new IllegalArgumentException("attempts are numbered from 1, got " + attempt);
        }
        return wait(attempt, initialBackoff, maxBackoff);
    }

    /** Sum of all the waits: the most that retrying adds to a job, besides the tries themselves. */
    public Duration totalBackoff() {
        Duration total = Duration.ZERO;
        for (int k = 1; k < attempts; k++) {
            total = total.plus(backoffAfter(k));
        }
        return total;
    }

    private static Duration wait(int attempt, Duration initial, Duration max) {
        Duration d = initial.multipliedBy(1L << Math.min(attempt - 1, 30));
        return d.compareTo(max) > 0 ? max : d;
    }
}
