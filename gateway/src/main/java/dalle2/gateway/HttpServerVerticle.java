package dalle2.gateway;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.ext.web.Router;
import java.util.function.Function;

/**
 * One HTTP server on its own event loop. The gateway deploys one per core on one port (Vert.x hands each new
 * connection to the next of them), all routing into the same handlers, producer and status view: a single event
 * loop would otherwise parse, route and answer every request of the process on one core.
 */
final class HttpServerVerticle extends VerticleBase {

    private final String host;
    private final int port;
    private final Function<io.vertx.core.Vertx, Router> router;
    private HttpServer server;

    HttpServerVerticle(String host, int port, Function<io.vertx.core.Vertx, Router> router) {
        this.host = host;
        this.port = port;
        this.router = router;
    }

    /** The port it listens on (the actual one when asked for port 0). */
    int port() {
        return server.actualPort();
    }

    @Override
    public Future<?> start() {
        return vertx.createHttpServer(HttpLimits.serverOptions())
                .invalidRequestHandler(HttpLimits.invalidRequestHandler())
                .requestHandler(router.apply(vertx))
                .listen(port, host)
                .onSuccess(s -> server = s);
    }

    @Override
    public Future<?> stop() {
        return server == null ? Future.succeededFuture() : server.close();
    }
}
