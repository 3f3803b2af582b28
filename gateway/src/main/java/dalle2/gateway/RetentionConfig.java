package dalle2.gateway;

import java.time.Duration;

/**
 * How long a finished job stays fetchable.
 *
 * @param retention     statuses (the status topic's {@code retention.ms}) and images (deleted by the
 *                      {@link ImageSweeper}) expire after this; the gateway answers 410 for a finished job past it
 * @param sweepInterval how often the sweeper lists the bucket
 */
public record RetentionConfig(Duration retention, Duration sweepInterval) {

    /** As long as the status topic keeps a finished job's last status by default. */
    public static final Duration DEFAULT_RETENTION = Duration.ofDays(7);
    public static final Duration DEFAULT_SWEEP_INTERVAL = Duration.ofMinutes(10);
    public static final Duration MIN_RETENTION = Duration.ofSeconds(1);
    public static final Duration MIN_SWEEP_INTERVAL = Duration.ofMillis(100);

    public RetentionConfig {
        if (retention == null || retention.compareTo(MIN_RETENTION) < 0) {
            throw new IllegalArgumentException("retention must be at least " + MIN_RETENTION + ", got " + retention);
        }
        if (sweepInterval == null || sweepInterval.compareTo(MIN_SWEEP_INTERVAL) < 0) {
            throw new IllegalArgumentException("sweep interval must be at least " + MIN_SWEEP_INTERVAL + ", got "
                    + sweepInterval);
        }
    }

    public static RetentionConfig defaults() {
        return new RetentionConfig(DEFAULT_RETENTION, DEFAULT_SWEEP_INTERVAL);
    }
}
