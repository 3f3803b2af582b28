package dalle2.gateway;

import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * 429 {@code rate_limited} with {@code Retry-After} once a caller's bucket is empty. One bucket per API key
 * (keys are configured, so the map is bounded); in open mode all callers share one. Per gateway instance: N
 * instances let a key through at up to N times the rate.
 */
final class RateLimiter implements Handler<RoutingContext> {

    private final RateLimitConfig config;
    private final LongSupplier nanoClock;
    private final ConcurrentHashMap<String, TokenBucket> buckets = new ConcurrentHashMap<>();

    RateLimiter(RateLimitConfig config, LongSupplier nanoClock) {
        this.config = config;
        this.nanoClock = nanoClock;
    }

    @Override
    public void handle(RoutingContext ctx) {
        if (config.isUnlimited()) {
            ctx.next();
            return;
        }
        long now = nanoClock.getAsLong();
        long wait = buckets.computeIfAbsent(Authenticator.caller(ctx).scope(), k -> new TokenBucket(config, now))
                .tryTake(now);
        if (wait > 0) {
            ctx.fail(ApiError.retryLater(429, "rate_limited", "too many requests for this API key ("
                    + config.perSecond() + "/s, burst " + config.burst() + ")", wait));
            return;
        }
        ctx.next();
    }
}
