package dalle2.pipeline;

import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Test-only crash points inside a worker, for fault tests on a real process cluster: the process halts (as a
 * SIGKILL would: no shutdown hooks, no commits, no flushes) the {@code n}-th time it reaches the armed point.
 * Armed by the system property {@value #PROPERTY} or the environment variable {@value #ENV}, e.g.
 * {@code after-image-stored} or {@code after-status-published:3}; unarmed (the default) it does nothing.
 */
public enum FaultPoint {
    /** A job's images are in object storage; its output and final status are not yet sent. */
    AFTER_IMAGE_STORED,
    /** A job's output and final status are acknowledged; its input offset is not yet committed. */
    AFTER_STATUS_PUBLISHED;

    public static final String PROPERTY = "dalle2.fault";
    public static final String ENV = "DALLE2_FAULT";
    /** The exit status of a halted process: what a shell reports for SIGKILL. */
    public static final int HALT_STATUS = 137;

    private static final Logger LOG = LoggerFactory.getLogger(FaultPoint.class);
    private static final Armed ARMED = Armed.parse(System.getProperty(PROPERTY, System.getenv(ENV)));

    private record Armed(FaultPoint point, int nth, AtomicInteger reached) {
        static Armed parse(String spec) {
            if (spec == null || spec.isBlank()) {
                return null;
            }
            String[] parts = spec.trim().split(":", 2);
            FaultPoint point = FaultPoint.valueOf(parts[0].replace('-', '_').toUpperCase(Locale.ROOT));
            int nth = parts.length == 2 ? Integer.parseInt(parts[1]) : 1;
            if (nth < 1) {
                throw new IllegalArgumentException(PROPERTY + ": the count must be >= 1, got " + spec);
            }
            return new Armed(point, nth, new AtomicInteger());
        }
    }

    /** The wire name, e.g. {@code after-image-stored}. */
    public String wire() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** Halts the process if this point is armed and reached for the armed time. */
    public void reach(String workerId, String jobId) {
        Armed armed = ARMED;
        if (armed == null || armed.point() != this) {
            return;
        }
        if (armed.reached().incrementAndGet() == armed.nth()) {
            LOG.error("{}: fault point {} reached for job {}: halting", workerId, wire(), jobId);
            System.err.flush();
            Runtime.getRuntime().halt(HALT_STATUS);
        }
    }
}
