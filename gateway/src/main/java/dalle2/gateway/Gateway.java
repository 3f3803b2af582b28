package dalle2.gateway;

import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.vertx.micrometer.VertxPrometheusOptions;
import java.util.concurrent.TimeUnit;

/** Starts a gateway: a Vert.x instance with Prometheus metrics, and the verticle. */
public final class Gateway implements AutoCloseable {

    private final Vertx vertx;
    private final GatewayVerticle verticle;

    private Gateway(Vertx vertx, GatewayVerticle verticle) {
        this.vertx = vertx;
        this.verticle = verticle;
    }

    /** Vert.x options with Micrometer metrics exposed for Prometheus (scraped at {@code /metrics}). */
    public static VertxOptions vertxOptions() {
        return new VertxOptions().setMetricsOptions(new MicrometerMetricsOptions()
                .setPrometheusOptions(new VertxPrometheusOptions().setEnabled(true))
                .setJvmMetricsEnabled(true)
                .setEnabled(true));
    }

    /** Starts a gateway and waits until it listens. */
    public static Gateway start(GatewayConfig config) throws Exception {
        Vertx vertx = Vertx.vertx(vertxOptions());
        GatewayVerticle verticle = new GatewayVerticle(config);
        try {
            vertx.deployVerticle(verticle).toCompletionStage().toCompletableFuture().get(120, TimeUnit.SECONDS);
        } catch (Exception e) {
            vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
            throw e;
        }
        return new Gateway(vertx, verticle);
    }

    public int port() {
        return verticle.port();
    }

    public GatewayVerticle verticle() {
        return verticle;
    }

    @Override
    public void close() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
}
