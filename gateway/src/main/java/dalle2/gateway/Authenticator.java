package dalle2.gateway;

import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;
import java.util.Locale;
import java.util.Optional;

/**
 * Checks {@code Authorization: Bearer <key>} on every /v1 route and puts the {@link Principal} into the context;
 * 401 with {@code WWW-Authenticate: Bearer} otherwise. In open mode every caller is {@link Principal#OPEN}.
 * Failed attempts are counted per client address: past {@code failures}' burst they get 429, so guessing keys
 * from one address runs at the bucket's rate.
 */
final class Authenticator implements Handler<RoutingContext> {

    static final String SCHEME = "Bearer";
    private static final String PREFIX = SCHEME.toLowerCase(Locale.ROOT) + " ";

    private final AccessConfig access;
    private final KeyedBuckets failures;

    Authenticator(AccessConfig access, KeyedBuckets failures) {
        this.access = access;
        this.failures = failures;
    }

    @Override
    public void handle(RoutingContext ctx) {
        if (access.open()) {
            ctx.put(Principal.CONTEXT_KEY, Principal.OPEN);
            ctx.next();
            return;
        }
        String header = ctx.request().getHeader("Authorization");
        Optional<Principal> caller = Optional.empty();
        if (header != null && header.length() > PREFIX.length()
                && header.substring(0, PREFIX.length()).toLowerCase(Locale.ROOT).equals(PREFIX)) {
            caller = access.keys().authenticate(header.substring(PREFIX.length()).strip());
        }
        if (caller.isEmpty()) {
            String address = ctx.request().remoteAddress() == null ? "unknown"
                    : ctx.request().remoteAddress().hostAddress();
            long wait = failures.tryTake(address);
            if (wait > 0) {
                ctx.fail(ApiError.retryLater(429, "rate_limited", "too many failed authentications from this address",
                        wait));
                return;
            }
            ctx.fail(new ApiError(401, "unauthorized", header == null
                    ? "send Authorization: Bearer <API key>" : "the API key is not valid", "Authorization")
                    .withHeader("WWW-Authenticate", SCHEME + " realm=\"dalle2\""));
            return;
        }
        ctx.put(Principal.CONTEXT_KEY, caller.get());
        ctx.next();
    }

    /** The authenticated caller of a request that passed this handler. */
    static Principal caller(RoutingContext ctx) {
        Principal p = ctx.get(Principal.CONTEXT_KEY);
        return p == null ? Principal.OPEN : p;
    }
}
