package dalle2.gateway;

import dalle2.messages.JobStatus;
import dalle2.pipeline.StatusView;
import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

/**
 * 410 {@code expired} for a finished job whose last update is older than the retention, even while this
 * gateway's status view still holds it: Kafka drops old records only when it rolls and cleans a segment, and the
 * images may already be swept. A job that has not finished never expires here.
 */
final class Expiry implements Handler<RoutingContext> {

    private final StatusView view;
    private final Duration retention;
    private final Clock clock;

    Expiry(StatusView view, Duration retention, Clock clock) {
        this.view = view;
        this.retention = retention;
        this.clock = clock;
    }

    static boolean expired(JobStatus s, Duration retention, Instant now) {
        return s.state().terminal() && Instant.parse(s.timestamps().updatedAt()).plus(retention).isBefore(now);
    }

    @Override
    public void handle(RoutingContext ctx) {
        String id = ctx.pathParam("id");
        if (id != null && view.get(id).filter(s -> expired(s, retention, clock.instant())).isPresent()) {
            ctx.fail(new ApiError(410, "expired", "generation " + id + " finished more than " + retention
                    + " ago; its status and images are no longer kept", null));
            return;
        }
        ctx.next();
    }
}
