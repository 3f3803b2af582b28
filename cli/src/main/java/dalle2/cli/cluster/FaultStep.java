package dalle2.cli.cluster;

import java.time.Instant;

/** One injected fault: when in the burst it strikes, and what it does to the cluster. */
public record FaultStep(String name, double atFractionSubmitted, Action action) {

    /** Does the harm (and any repair that belongs to it) and answers the instant the harm was done. */
    @FunctionalInterface
    public interface Action {
        Instant inject(LocalCluster cluster) throws Exception;
    }
}
