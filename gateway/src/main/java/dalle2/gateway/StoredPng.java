package dalle2.gateway;

import dalle2.storage.ObjectStore;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.RoutingContext;
import java.io.InputStream;
import java.util.Optional;

/**
 * Answers with a PNG read from object storage (on a worker thread: the read blocks), private and cached for a day
 * (its key never changes content), or 404 naming {@code what} when it is not there.
 */
final class StoredPng {

    private StoredPng() {
    }

    static void send(RoutingContext ctx, ObjectStore store, String key, String what) {
        ctx.vertx().executeBlocking(() -> {
            Optional<InputStream> in = store.get(key);
            if (in.isEmpty()) {
                return null;
            }
            try (InputStream stream = in.get()) {
                return Buffer.buffer(stream.readAllBytes());
            }
        }).onSuccess(png -> {
            if (png == null) {
                ctx.fail(ApiError.notFound(what + " is not in storage"));
                return;
            }
            ctx.response().putHeader("Content-Type", ObjectStore.PNG)
                    .putHeader("Cache-Control", "private, max-age=86400, immutable")
                    .end(png);
        }).onFailure(ctx::fail);
    }
}
