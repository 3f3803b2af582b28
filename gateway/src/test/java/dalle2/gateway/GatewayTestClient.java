package dalle2.gateway;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.time.Duration;

/** An HTTP client on a gateway under test (loopback), with the requests and polls the tests share. */
final class GatewayTestClient implements AutoCloseable {

    static final Duration STATE_TIMEOUT = Duration.ofSeconds(20);

    private final Vertx vertx = Vertx.vertx();
    private final WebClient web;

    GatewayTestClient(int port) {
        web = WebClient.create(vertx, new WebClientOptions().setDefaultHost("127.0.0.1").setDefaultPort(port));
    }

    /** The underlying client, for requests with their own headers or bodies. */
    WebClient web() {
        return web;
    }

    HttpResponse<Buffer> get(String path) {
        return web.get(path).send().await();
    }

    HttpResponse<Buffer> delete(String path) {
        return web.delete(path).send().await();
    }

    /** Polls the job until it is in {@code state}; fails with the last answer after {@link #STATE_TIMEOUT}. */
    JsonObject awaitState(String id, String state) throws InterruptedException {
        long deadline = System.nanoTime() + STATE_TIMEOUT.toNanos();
        while (true) {
            HttpResponse<Buffer> r = get("/v1/generations/" + id);
            if (r.statusCode() == 200 && state.equals(r.bodyAsJsonObject().getString("state"))) {
                return r.bodyAsJsonObject();
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("job " + id + " never reached " + state + ": " + r.bodyAsString());
            }
            Thread.sleep(20);
        }
    }

    @Override
    public void close() {
        vertx.close().await();
    }
}
