package dalle2.pipeline;

import dalle2.storage.ObjectStore;
import io.minio.errors.ErrorResponseException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.common.errors.RetriableException;

/** How a stage words a failure for a status or a log, and which failures a try again may cure. */
final class Failures {

    private Failures() {
    }

    /**
     * Whether a failed I/O try may succeed if tried again: object storage errors (unreachable, refused, a
     * missing bucket) and Kafka's retriable errors (timeouts, no leader, not enough replicas). Anything else —
     * a wrong image size, a message that breaks its schema, a record too large — fails at once.
     */
    static boolean transientIo(Throwable e) {
        Throwable t = unwrap(e);
        return t instanceof ObjectStore.StorageException || t instanceof RetriableException
                || t instanceof java.io.UncheckedIOException;
    }

    static Throwable unwrap(Throwable e) {
        Throwable t = e;
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    /** {@code what}, the tries when more than one, and the cause in one line. */
    static String message(String what, Throwable e, int attempt) {
        String tries = attempt == 1 ? "" : " after " + attempt + " tries";
        return what + tries + ": " + describe(e);
    }

    /**
     * One line for a status or a log: the S3 error code and message when storage answered with one (the SDK's own
     * text dumps the whole HTTP exchange), else the first line of the message, at most 300 characters.
     */
    static String describe(Throwable e) {
        Throwable t = unwrap(e);
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof ErrorResponseException response && response.errorResponse() != null) {
                return response.errorResponse().code() + ": " + response.errorResponse().message();
            }
        }
        String m = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
        int newline = m.indexOf('\n');
        m = newline >= 0 ? m.substring(0, newline) : m;
        return m.length() > 300 ? m.substring(0, 300) + "…" : m;
    }
}
