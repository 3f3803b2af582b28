package dalle2.gateway;

import dalle2.messages.GenerationRequest;
import dalle2.messages.JobState;
import dalle2.messages.JobStatus;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Locale;

/**
 * What one event stream has told its client about a job, and which events a newer status of the job owes it.
 *
 * <p>An event's id names exactly what the client has seen: the state, then (after a colon) the step of the running
 * stage ({@code decoding:decoder.17}) or the queue position ({@code queued:q3}). Ids are computed from the status
 * alone, not counted per connection, so a client that reconnects to any gateway with {@code Last-Event-ID} resumes
 * where it was: the states the job passed since are sent once each, in order, and none it saw is sent again.
 *
 * <p>The stream follows the latest status, not a log of all of them: states the view never held (a gateway that
 * was down while the job ran) are recovered from the job's timestamps, and intermediate steps may be skipped.
 */
final class JobEventCursor {

    /** The event name of a state change, and of a step or queue position within a state. */
    static final String STATE = "state";
    static final String PROGRESS = "progress";

    /** One server-sent event: {@code data} is written as JSON. */
    record Event(String id, String name, Object data) {
    }

    /**
     * The data of an event: a job's state with what a client shows while it waits, and, once it has succeeded,
     * the model versions that made it.
     */
    record JobEvent(String id, String state, JobStatus.Progress progress, Integer queuePosition,
                    JobStatus.ErrorInfo error, List<ImageLink> images, Map<String, String> models) {
    }

    record ImageLink(int index, String url) {
    }

    private JobState lastState;
    private String lastDetail;

    private JobEventCursor(JobState lastState, String lastDetail) {
        this.lastState = lastState;
        this.lastDetail = lastDetail;
    }

    /** A cursor for a client that has seen nothing of the job yet: its first event is the job's current state. */
    static JobEventCursor fresh() {
        return new JobEventCursor(null, null);
    }

    /**
     * A cursor for a client that reconnects after the event with id {@code lastEventId} (the header
     * {@code Last-Event-ID}); a fresh one when the header is absent or blank.
     *
     * @throws IllegalArgumentException when the id is not one this API writes
     */
    static JobEventCursor after(String lastEventId) {
        if (lastEventId == null || lastEventId.isBlank()) {
            return fresh();
        }
        String id = lastEventId.strip();
        int colon = id.indexOf(':');
        String state = colon < 0 ? id : id.substring(0, colon);
        String detail = colon < 0 ? null : id.substring(colon + 1);
        for (JobState s : JobState.values()) {
            if (s.wire().equals(state)) {
                return new JobEventCursor(s, detail == null || detail.isEmpty() ? null : detail);
            }
        }
        throw new IllegalArgumentException("Last-Event-ID '" + shorten(id)
                + "' is not an event id of this stream (it starts with a state: queued, prior, decoding, ...)");
    }

    /** Whether the client has seen the job's final state: the stream has nothing more to send. */
    boolean finished() {
        return lastState != null && lastState.terminal();
    }

    /**
     * The events {@code status} owes the client, oldest first, and moves the cursor past them.
     *
     * @param queuePosition the job's place in the queue while it is queued, else null
     */
    List<Event> next(JobStatus status, Integer queuePosition) {
        List<Event> events = new ArrayList<>();
        if (finished()) {
            return events;
        }
        String detail = detail(status, queuePosition);
        if (lastState == null) {
            lastState = status.state();
            lastDetail = detail;
            events.add(new Event(id(status.state(), detail), STATE, event(status, status.state(), detail,
                    queuePosition)));
            return events;
        }
        for (JobState passed : passedStates(status)) {
            if (!lastState.precedes(passed)) {
                continue;
            }
            boolean current = passed == status.state();
            String d = current ? detail : null;
            events.add(new Event(id(passed, d), STATE, current ? event(status, passed, d, queuePosition)
                    : event(status, passed, null, null)));
            lastState = passed;
            lastDetail = d;
        }
        if (lastState == status.state() && detail != null && !detail.equals(lastDetail)) {
            events.add(new Event(id(status.state(), detail), PROGRESS, event(status, status.state(), detail,
                    queuePosition)));
            lastDetail = detail;
        }
        return events;
    }

    /**
     * The states the job went through up to its current one, in order. A job in a running state passed every
     * earlier one; a finished one passed those its timestamps show (a succeeded job larger than the base size
     * was upsampled).
     */
    static List<JobState> passedStates(JobStatus s) {
        List<JobState> passed = new ArrayList<>();
        JobStatus.Timestamps t = s.timestamps();
        GenerationRequest r = s.request();
        boolean succeeded = s.state() == JobState.SUCCEEDED;
        if (t.submittedAt() != null || !s.state().terminal()) {
            passed.add(JobState.QUEUED);
        }
        if (JobState.QUEUED.precedes(s.state()) && (!s.state().terminal() || succeeded || t.priorStartedAt() != null)) {
            passed.add(JobState.PRIOR);
        }
        if (JobState.PRIOR.precedes(s.state()) && (!s.state().terminal() || succeeded || t.decoderStartedAt() != null)) {
            passed.add(JobState.DECODING);
        }
        if (s.state() == JobState.UPSAMPLING
                || succeeded && r != null && r.size() > GenerationRequest.BASE_SIZE) {
            passed.add(JobState.UPSAMPLING);
        }
        if (!passed.contains(s.state())) {
            passed.add(s.state());
        }
        return passed;
    }

    private static String detail(JobStatus s, Integer queuePosition) {
        if (s.state().terminal()) {
            return null;
        }
        if (s.progress() != null) {
            return s.progress().stage() + "." + s.progress().step();
        }
        return queuePosition == null ? null : "q" + queuePosition;
    }

    private static String id(JobState state, String detail) {
        return detail == null ? state.wire() : state.wire() + ":" + detail;
    }

    private static JobEvent event(JobStatus s, JobState state, String detail, Integer queuePosition) {
        boolean current = state == s.state();
        List<ImageLink> images = null;
        if (current && s.state() == JobState.SUCCEEDED) {
            images = new ArrayList<>();
            for (int k = 0; k < s.imageKeys().size(); k++) {
                images.add(new ImageLink(k, "/v1/generations/" + s.jobId() + "/images/" + k + ".png"));
            }
        }
        return new JobEvent(s.jobId(), state.wire(), current ? s.progress() : null,
                current && s.state() == JobState.QUEUED ? queuePosition : null, current ? s.error() : null, images,
                images != null && s.models() != null && !s.models().isEmpty() ? s.models() : null);
    }

    private static String shorten(String id) {
        String printable = id.replaceAll("[^\\x20-\\x7e]", "?");
        return printable.length() <= 64 ? printable : printable.substring(0, 64) + "...";
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "after %s:%s", lastState, lastDetail);
    }
}
