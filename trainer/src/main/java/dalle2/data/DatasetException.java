package dalle2.data;

/** A dataset cannot be read (a whole file is unusable), or a bad item was met under {@link BadItemPolicy#STRICT}. */
public class DatasetException extends RuntimeException {

    public DatasetException(String message) {
        super(message);
    }

    public DatasetException(String message, Throwable cause) {
        super(message, cause);
    }
}
