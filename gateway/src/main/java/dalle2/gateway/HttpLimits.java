package dalle2.gateway;

import dalle2.json.Json;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;

/**
 * Bounds on what a client may send before any handler runs, and the answer when it sends more: the same JSON
 * error body as every other error (Vert.x's own answer to a request it cannot decode has no body).
 */
final class HttpLimits {

    /** Request line (method, path, query, version). */
    static final int MAX_INITIAL_LINE_BYTES = 4096;
    /** All headers together. */
    static final int MAX_HEADER_BYTES = 8192;
    static final int MAX_CHUNK_BYTES = 8192;
    /** A connection idle this long (a slow or stuck client) is closed. */
    static final int IDLE_TIMEOUT_SECONDS = 30;
    static final int MAX_BODY_BYTES = 64 * 1024;
    /**
     * Longest a /v1 request may take, upload included: a body trickled in a byte at a time never counts as idle,
     * and a submission whose Kafka write hangs answers 503 rather than never. It lies between the gateway
     * producer's delivery timeout and the connection's idle timeout, so a write that fails answers with its own
     * 503 {@code unavailable}, and this answer comes before an idle connection would be closed without one.
     */
    static final long REQUEST_TIMEOUT_MS = dalle2.kafka.KafkaClients.GATEWAY_DELIVERY_TIMEOUT_MS + 5_000;

    private HttpLimits() {
    }

    static HttpServerOptions serverOptions() {
        return new HttpServerOptions()
                .setMaxInitialLineLength(MAX_INITIAL_LINE_BYTES)
                .setMaxHeaderSize(MAX_HEADER_BYTES)
                .setMaxChunkSize(MAX_CHUNK_BYTES)
                .setIdleTimeout(IDLE_TIMEOUT_SECONDS)
                // HTTP/1.1 only: an h2c prior-knowledge preface would otherwise bypass the HTTP/1 limits above
                .setHttp2ClearTextEnabled(false)
                .setDecompressionSupported(false);
    }

    /** Answers a request the HTTP decoder refused (too long a line or headers, bad syntax), then closes. */
    static Handler<HttpServerRequest> invalidRequestHandler() {
        return request -> {
            Throwable cause = request.decoderResult().cause();
            String text = cause == null ? "" : cause.toString();
            int status;
            String code;
            if (text.contains("TooLongHttpLine") || text.contains("TooLongUri")) {
                status = 414;
                code = "uri_too_long";
            } else if (text.contains("TooLongHttpHeader") || text.contains("TooLongHeader")) {
                status = 431;
                code = "headers_too_large";
            } else {
                status = 400;
                code = "bad_request";
            }
            String body = Json.write(new Representations.ErrorBody(new Representations.Error(code,
                    status == 400 ? "the HTTP request is malformed" : "the request line or headers are too long",
                    null)));
            try {
                request.response().setStatusCode(status).putHeader("Content-Type", "application/json")
                        .putHeader("Connection", "close").end(body)
                        .onComplete(done -> request.connection().close());
            } catch (RuntimeException e) {
                request.connection().close();
            }
        };
    }
}
