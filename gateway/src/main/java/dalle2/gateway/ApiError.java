package dalle2.gateway;

/** An error the API answers as {@code {error: {code, message, field}}} with an HTTP status. */
public final class ApiError extends RuntimeException {

    private final int status;
    private final String code;
    private final String field;
    /** Seconds for a {@code Retry-After} header, or null. */
    private final Integer retryAfterSeconds;

    public ApiError(int status, String code, String message, String field) {
        this(status, code, message, field, null);
    }

    public ApiError(int status, String code, String message, String field, Integer retryAfterSeconds) {
        super(message, null, false, false);
        this.status = status;
        this.code = code;
        this.field = field;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    /** 503 with {@code Retry-After}: a dependency (Kafka, the status view) cannot serve the request now. */
    public static ApiError unavailable(String code, String message, int retryAfterSeconds) {
        return new ApiError(503, code, message, null, retryAfterSeconds);
    }

    public Integer retryAfterSeconds() {
        return retryAfterSeconds;
    }

    public static ApiError notFound(String message) {
        return new ApiError(404, "not_found", message, null);
    }

    public static ApiError badRequest(String code, String message, String field) {
        return new ApiError(400, code, message, field);
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
}
