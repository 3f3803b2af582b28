package dalle2.cli.cluster;

/**
 * A burst of jobs at a steady rate (repeating a few distinct ones keeps the reference images cheap to compute), and how long a job may take after the last submission before it is stuck. */
public record Workload(int jobs, double jobsPerSecond, int imagesPerJob, int priorSteps, int decoderSteps,
                       long seedBase, int distinctJobs, int settleSeconds) {

    public Workload {
        if (jobs < 1 || jobsPerSecond <= 0 || imagesPerJob < 1) {
            throw new IllegalArgumentException("need at least one job, a positive rate and one image per job");
        }
    }

    /** Job i repeats the prompt and seed of job {@code i % distinctJobs} (0: every job distinct). */
    public long seedOf(int i) {
        return seedBase + (distinctJobs > 0 ? i % distinctJobs : i);
    }

    public long submitIntervalMs() {
        return Math.max(1, Math.round(1000 / jobsPerSecond));
    }
}
