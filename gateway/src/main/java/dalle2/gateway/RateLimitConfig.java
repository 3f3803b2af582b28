package dalle2.gateway;

/**
 * A token bucket per API key: {@code burst} requests at once, refilled at {@code perSecond}.
 *
 * @param perSecond tokens added per second (0 < perSecond)
 * @param burst     bucket size (1..{@value #MAX_BURST})
 */
public record RateLimitConfig(double perSecond, int burst) {

    public static final double DEFAULT_PER_SECOND = 10.0;
    public static final int DEFAULT_BURST = 50;
    public static final int MAX_BURST = 1_000_000;
    /** The rate of {@link #unlimited()}: no bucket is kept. */
    public static final double UNLIMITED_PER_SECOND = Double.MAX_VALUE;

    public RateLimitConfig {
        if (!(perSecond > 0) || Double.isInfinite(perSecond)) {
            throw new IllegalArgumentException("rate limit must be a positive number of requests per second, got "
                    + perSecond);
        }
        if (burst < 1 || burst > MAX_BURST) {
            throw new IllegalArgumentException("rate burst must be in 1.." + MAX_BURST + ", got " + burst);
        }
    }

    /** Failed authentications per client address: a burst of typos is fine, a key search crawls. */
    public static final double AUTH_FAILURES_PER_SECOND = 1.0;
    public static final int AUTH_FAILURE_BURST = 100;

    public static RateLimitConfig authFailures() {
        return new RateLimitConfig(AUTH_FAILURES_PER_SECOND, AUTH_FAILURE_BURST);
    }

    public static RateLimitConfig defaults() {
        return new RateLimitConfig(DEFAULT_PER_SECOND, DEFAULT_BURST);
    }

    /** No limit: for a gateway only its own process talks to (tests, benchmarks, the embedded stack). */
    public static RateLimitConfig unlimited() {
        return new RateLimitConfig(UNLIMITED_PER_SECOND, MAX_BURST);
    }

    public boolean isUnlimited() {
        return perSecond == UNLIMITED_PER_SECOND;
    }
}
