package dalle2.cli.cluster;

import java.nio.file.Path;

/**
 * What cluster to start: its folder (logs, broker logs, S3 objects), the models and how many of each process.
 * {@code decoderFault} arms {@link dalle2.pipeline.FaultPoint} on the first decoder worker (null: none).
 */
public record ClusterSettings(Path dir, Path models, int brokers, int gateways, int priorWorkers,
                              int decoderWorkers, int decoderMaxBatch, String decoderFault) {

    public ClusterSettings {
        if (brokers < 1 || gateways < 1 || priorWorkers < 1 || decoderWorkers < 1) {
            throw new IllegalArgumentException("every role needs at least one process");
        }
    }

    /** The harness's usual cluster: 3 brokers, 2 gateways, 2 prior and 2 decoder workers. */
    public static ClusterSettings standard(Path dir, Path models) {
        return new ClusterSettings(dir, models, 3, 2, 2, 2, 4, null);
    }

    public ClusterSettings withDecoderFault(String fault) {
        return new ClusterSettings(dir, models, brokers, gateways, priorWorkers, decoderWorkers, decoderMaxBatch,
                fault);
    }
}
