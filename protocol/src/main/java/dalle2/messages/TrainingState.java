package dalle2.messages;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/**
 * The life of a training: queued → running → succeeded or failed, or cancelled from queued or running (by
 * {@code DELETE /v1/trainings/{id}}). A training whose worker dies stays {@code running} until another trainer
 * worker takes its job again and resumes it from its last checkpoint.
 */
public enum TrainingState {
    QUEUED(0), RUNNING(1), SUCCEEDED(2), FAILED(2), CANCELLED(2);

    private static final int TERMINAL_RANK = 2;

    private final int rank;

    TrainingState(int rank) {
        this.rank = rank;
    }

    public boolean terminal() {
        return rank == TERMINAL_RANK;
    }

    /**
     * Whether a status in this state may replace one in {@code previous}: nothing leaves a terminal state, and a
     * late {@code queued} never hides a running training; running may follow running (a resumed run reports
     * from its checkpoint's step, which can be behind what the dead worker reported).
     */
    public boolean mayFollow(TrainingState previous) {
        if (previous.terminal()) {
            return this == previous;
        }
        return rank >= previous.rank;
    }

    @JsonValue
    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    @JsonCreator
    public static TrainingState fromWire(String value) {
        for (TrainingState s : values()) {
            if (s.wire().equals(value)) {
                return s;
            }
        }
        throw new InvalidMessageException("state", "unknown training state '" + value + "'");
    }
}
