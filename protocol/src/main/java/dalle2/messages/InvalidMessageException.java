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

    /**
     * Refuses text that is not valid Unicode: a lone UTF-16 surrogate (JSON's {@code "\ud800"}) decodes to a Java
     * string that cannot be written as UTF-8, so it would break every later encoder (tokenizer, PNG text, logs).
     */
    public static void requireWellFormed(String text, String field) {
        if (text == null) {
            return;
        }
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                throw new InvalidMessageException(field, field + " is not valid Unicode text: lone surrogate U+"
                        + String.format("%04X", (int) c) + " at index " + i);
            } else if (c == 0) {
                throw new InvalidMessageException(field, field + " must not contain the NUL character (index " + i + ")");
            }
        }
    }

    static void require(boolean condition, String field, String message) {
        if (!condition) {
            throw new InvalidMessageException(field, message);
        }
    }
}
