package dalle2.gateway;

import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;

/** 503 {@code overloaded} with Retry-After on submissions while the prior pool's backlog passes the bound. */
final class AdmissionGate implements Handler<RoutingContext> {

    private final AdmissionConfig config;
    private final BacklogMonitor backlog;

    AdmissionGate(AdmissionConfig config, BacklogMonitor backlog) {
        this.config = config;
        this.backlog = backlog;
    }

    @Override
    public void handle(RoutingContext ctx) {
        long waiting = backlog.backlog();
        if (waiting > config.maxBacklog()) {
            ctx.fail(ApiError.retryLater(503, "overloaded", waiting + " requests are waiting (at most "
                    + config.maxBacklog() + " are queued); retry later",
                    Math.max(1, config.backlogRefresh().toSeconds())));
            return;
        }
        ctx.next();
    }
}
