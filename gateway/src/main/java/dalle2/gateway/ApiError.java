package dalle2.gateway;

/** An error the API answers as {@code {error: {code, message, field}}} with an HTTP status. */
public final class ApiError extends RuntimeException {

    private final int status;
    private final String code;
    private final String field;

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
