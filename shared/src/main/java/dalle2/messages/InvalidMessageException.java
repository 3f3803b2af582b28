package dalle2.messages;

/**
 * A message or request that breaks its schema: names the offending field (snake_case, as on the wire) so the
 * gateway can answer {@code 400 {error: {code, message, field}}} and a worker can dead-letter it with a reason.
 */
public final class InvalidMessageException extends IllegalArgumentException {

    private final String field;

    public InvalidMessageException(String field, String message) {
        super(message);
        this.field = field;
    }

    public InvalidMessageException(String field, String message, Throwable cause) {
        super(message, cause);
        this.field = field;
    }

    /** The snake_case field at fault, or null when the message as a whole is at fault. */
    public String field() {
        return field;
    }

    static void require(boolean condition, String field, String message) {
        if (!condition) {
            throw new InvalidMessageException(field, message);
        }
    }
}
