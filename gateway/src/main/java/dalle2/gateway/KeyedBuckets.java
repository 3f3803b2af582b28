package dalle2.gateway;

import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * A token bucket per key (an API key's scope, a client address), created full on first use. The map is bounded:
 * past {@link #MAX_KEYS} it starts over, which at worst hands every caller a fresh burst once.
 */
final class KeyedBuckets {

    /** Far more API keys than a deployment has; addresses beyond it are forgotten rather than piled up. */
    static final int MAX_KEYS = 10_000;

    private final RateLimitConfig config;
    private final LongSupplier nanoClock;
    private final ConcurrentHashMap<String, TokenBucket> buckets = new ConcurrentHashMap<>();

    KeyedBuckets(RateLimitConfig config, LongSupplier nanoClock) {
        this.config = config;
        this.nanoClock = nanoClock;
    }

    RateLimitConfig config() {
        return config;
    }

    /** 0 when a token was taken, else the seconds until one will be there. */
    long tryTake(String key) {
        if (config.isUnlimited()) {
            return 0;
        }
        long now = nanoClock.getAsLong();
        if (buckets.size() >= MAX_KEYS && !buckets.containsKey(key)) {
            buckets.clear();
        }
        return buckets.computeIfAbsent(key, k -> new TokenBucket(config, now)).tryTake(now);
    }
}
