package dalle2.cli.cluster;

import java.time.Instant;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/** What the client knows of one submission: the answer it got and the job's last polled state. */
public final class TrackedJob {

    public static final Set<String> FINAL = Set.of("succeeded", "failed", "cancelled");

    final JobSpec spec;
    final Set<String> jobIds = ConcurrentHashMap.newKeySet();
    /** Each submission attempt as "gateway -> answer", for the evidence when a promise breaks. */
    final java.util.List<String> attempts = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
    volatile int submitStatus;
    volatile String submitError;
    volatile int submitAttempts;
    volatile Instant submittedAt;
    volatile String state;
    volatile String errorCode;
    volatile String errorMessage;
    volatile Instant statusSubmittedAt;
    volatile Instant finishedAt;
    volatile int lastPollStatus;

    TrackedJob(JobSpec spec) {
        this.spec = spec;
    }

    /** 202 or 200: the gateway said the job is durable. */
    boolean accepted() {
        return submitStatus == 202 || submitStatus == 200;
    }

    boolean isFinal() {
        return state != null && FINAL.contains(state);
    }

    String jobId() {
        return jobIds.stream().findFirst().orElse(null);
    }
}
