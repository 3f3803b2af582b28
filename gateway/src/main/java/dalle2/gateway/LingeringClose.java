package dalle2.gateway;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerRequest;

/**
 * Closes a connection whose request was refused before its body was read (too large, unauthenticated, shed),
 * but only after reading and discarding what the client is still sending, for a bounded time. Closing a socket
 * with unread bytes in its receive buffer makes the kernel answer with a reset, and a client still uploading then
 * loses the error response already on its way: it sees "connection reset" instead of the 413 naming the limit.
 */
final class LingeringClose {

    /** The longest a refused upload goes on being discarded. */
    static final long MAX_LINGER_MS = 10_000;
    /** A refused upload that sends nothing for this long is not coming: close. */
    static final long IDLE_MS = 2_000;
    private static final long CHECK_MS = 250;

    private LingeringClose() {
    }

    /**
     * Starts discarding the request's remaining body; the connection closes once the answer is written and the body
     * has ended, or when the client stays silent for {@link #IDLE_MS}, or {@link #MAX_LINGER_MS} after now.
     */
    static void drainThenClose(Vertx vertx, HttpServerRequest request, Future<Void> answered) {
        Promise<Void> drained = Promise.promise();
        long start = System.nanoTime();
        long[] lastRead = {start};
        long check = vertx.setPeriodic(CHECK_MS, id -> {
            long now = System.nanoTime();
            if (now - lastRead[0] > IDLE_MS * 1_000_000 || now - start > MAX_LINGER_MS * 1_000_000) {
                drained.tryComplete();
            }
        });
        try {
            request.handler(discarded -> lastRead[0] = System.nanoTime())
                    .endHandler(ended -> drained.tryComplete())
                    .exceptionHandler(failed -> drained.tryComplete());
            request.resume();
        } catch (IllegalStateException alreadyRead) {
            drained.tryComplete();
        }
        Future.join(answered, drained.future()).onComplete(both -> {
            vertx.cancelTimer(check);
            request.connection().close();
        });
    }
}
