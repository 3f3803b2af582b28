package dalle2.cli.cluster;

import java.util.List;
import java.util.Locale;

/** The fault runs the harness knows; each starts a fresh cluster. */
public enum Scenario {
    BASELINE(null, List.of()),
    DECODER_KILL(null, List.of(new FaultStep("SIGKILL a decoder mid-batch", 0.3,
            c -> Faults.killBusyDecoder(c, false)))),
    PRIOR_KILL(null, List.of(new FaultStep("SIGKILL a prior worker", 0.3, Faults::killBusyPrior))),
    GATEWAY_KILL(null, List.of(new FaultStep("SIGKILL a gateway", 0.3, Faults::killGateway))),
    BROKER_LEADER_KILL(null, List.of(new FaultStep("SIGKILL the requests leader broker, restart it", 0.3,
            Faults::killRequestsLeader))),
    BROKERS_RESTART(null, List.of(new FaultStep("SIGKILL all brokers, restart them", 0.3,
            Faults::restartAllBrokers))),
    S3_OUTAGE(null, List.of(new FaultStep("S3 server down 60 s", 0.3, c -> Faults.storageOutage(c, 60)))),
    /** Shorter than the workers' 7.5 s of retry backoff: a restart of storage the README says they ride out. */
    S3_BLIP(null, List.of(new FaultStep("S3 server down 5 s", 0.3, c -> Faults.storageOutage(c, 5)))),
    HALT_AFTER_IMAGE_STORED("after-image-stored:2", List.of(new FaultStep("decoder halts after PNG stored", 0.0,
            c -> Faults.awaitFaultPointHalt(c, 300)))),
    HALT_AFTER_STATUS_PUBLISHED("after-status-published:2", List.of(new FaultStep(
            "decoder halts after status published", 0.0, c -> Faults.awaitFaultPointHalt(c, 300))));

    /** The {@link dalle2.pipeline.FaultPoint} armed on decoder-1, or null. */
    final String decoderFault;
    final List<FaultStep> steps;

    Scenario(String decoderFault, List<FaultStep> steps) {
        this.decoderFault = decoderFault;
        this.steps = steps;
    }

    public String wire() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    public static Scenario parse(String wire) {
        return valueOf(wire.trim().toUpperCase(Locale.ROOT).replace('-', '_'));
    }

    /** The soak's faults: a decoder kill (restarted), a leader broker kill and a 60 s storage outage. */
    static List<FaultStep> soakSteps() {
        return List.of(new FaultStep("SIGKILL a decoder mid-batch, restart it", 0.25, c -> Faults.killBusyDecoder(c, true)),
                new FaultStep("SIGKILL the requests leader broker, restart it", 0.5, Faults::killRequestsLeader),
                new FaultStep("S3 server down 60 s", 0.75, c -> Faults.storageOutage(c, 60)));
    }
}
