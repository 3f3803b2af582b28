package dalle2.gateway;

import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;

/**
 * 429 {@code rate_limited} with {@code Retry-After} once a caller's bucket is empty. One bucket per API key; in
 * open mode all callers share one. Per gateway instance: N instances let a key through at up to N times the rate.
 */
final class RateLimiter implements Handler<RoutingContext> {

    private final KeyedBuckets buckets;

    RateLimiter(KeyedBuckets buckets) {
        this.buckets = buckets;
    }

    @Override
    public void handle(RoutingContext ctx) {
        long wait = buckets.tryTake(Authenticator.caller(ctx).scope());
        if (wait > 0) {
            RateLimitConfig c = buckets.config();
            ctx.fail(ApiError.retryLater(429, "rate_limited", "too many requests for this API key ("
                    + c.perSecond() + "/s, burst " + c.burst() + ")", wait));
            return;
        }
        ctx.next();
    }
}
