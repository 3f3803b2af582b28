package dalle2.messages;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/**
 * The life of a job: queued → prior → decoding → (upsampling, for a size above the base decoder's) → succeeded;
 * failed or cancelled can end it at any point.
 */
public enum JobState {
    QUEUED(0), PRIOR(1), DECODING(2), UPSAMPLING(3), SUCCEEDED(4), FAILED(4), CANCELLED(4);

    private static final int TERMINAL_RANK = 4;

    private final int rank;

    JobState(int rank) {
        this.rank = rank;
    }

    public boolean terminal() {
        return rank == TERMINAL_RANK;
    }

    /**
     * Whether a status in this state may replace one in {@code previous}: never leave a terminal state, never
     * go back a stage (a redelivered message may repeat an earlier stage's status after a later one).
     */
    public boolean mayFollow(JobState previous) {
        if (previous.terminal()) {
            return this == previous && this != CANCELLED;
        }
        return rank >= previous.rank;
    }

    /**
     * Whether a job in this state has not reached {@code later} yet (and is not finished): e.g. QUEUED precedes
     * PRIOR, PRIOR precedes DECODING, DECODING precedes UPSAMPLING, nothing precedes itself, a terminal state precedes nothing.
     */
    public boolean precedes(JobState later) {
        return !terminal() && rank < later.rank;
    }

    @JsonValue
    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    @JsonCreator
    public static JobState fromWire(String value) {
        for (JobState s : values()) {
            if (s.wire().equals(value)) {
                return s;
            }
        }
        throw new InvalidMessageException("state", "unknown state '" + value + "'");
    }
}
