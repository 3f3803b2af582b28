package dalle2.gateway;

/** One caller's token bucket. Thread-safe; time comes from the caller (nanoseconds), so tests need no sleeps. */
final class TokenBucket {

    private static final double NANOS_PER_SECOND = 1e9;

    private final double perSecond;
    private final int burst;
    private double tokens;
    private long lastNanos;

    TokenBucket(RateLimitConfig config, long nowNanos) {
        this.perSecond = config.perSecond();
        this.burst = config.burst();
        this.tokens = burst;
        this.lastNanos = nowNanos;
    }

    /** Takes a token: 0 when taken, else the seconds (at least 1) until one will be there. */
    synchronized long tryTake(long nowNanos) {
        double elapsed = Math.max(0, nowNanos - lastNanos) / NANOS_PER_SECOND;
        tokens = Math.min(burst, tokens + elapsed * perSecond);
        lastNanos = Math.max(lastNanos, nowNanos);
        if (tokens >= 1) {
            tokens -= 1;
            return 0;
        }
        return Math.max(1, (long) Math.ceil((1 - tokens) / perSecond));
    }
}
