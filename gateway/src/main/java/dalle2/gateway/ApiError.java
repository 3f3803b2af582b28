package dalle2.gateway;

import java.util.LinkedHashMap;
import java.util.Map;

/** An error the API answers as {@code {error: {code, message, field}}} with an HTTP status (and headers). */
public final class ApiError extends RuntimeException {

    private final int status;
    private final String code;
    private final String field;
    private final Map<String, String> headers = new LinkedHashMap<>();

    public ApiError(int status, String code, String message, String field) {
        super(message, null, false, false);
        this.status = status;
        this.code = code;
        this.field = field;
    }

    public static ApiError notFound(String message) {
        return new ApiError(404, "not_found", message, null);
    }

    public static ApiError badRequest(String code, String message, String field) {
        return new ApiError(400, code, message, field);
    }

    /** A 429 or 503 that tells the client when to try again. */
    public static ApiError retryLater(int status, String code, String message, long retryAfterSeconds) {
        return new ApiError(status, code, message, null)
                .withHeader("Retry-After", Long.toString(Math.max(1, retryAfterSeconds)));
    }

    /** 503 with {@code Retry-After}: a dependency (Kafka, the status view) cannot serve the request now. */
    public static ApiError unavailable(String code, String message, int retryAfterSeconds) {
        return retryLater(503, code, message, retryAfterSeconds);
    }

    /** Adds a response header (e.g. {@code Retry-After}, {@code WWW-Authenticate}). */
    public ApiError withHeader(String name, String value) {
        headers.put(name, value);
        return this;
    }

    public int status() {
        return status;
    }

    public String code() {
        return code;
    }

    public String field() {
        return field;
    }

    public Map<String, String> headers() {
        return Map.copyOf(headers);
    }
}
