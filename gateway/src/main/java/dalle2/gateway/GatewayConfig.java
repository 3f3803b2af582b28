package dalle2.gateway;

import dalle2.pipeline.StatusView;
import dalle2.storage.ObjectStore;
import java.time.Duration;

/**
 * What a gateway instance needs.
 *
 * @param host         interface to listen on ({@code 127.0.0.1} by default; {@code 0.0.0.0} in a container)
 * @param port         0 for any free port
 * @param presignTtl   lifetime of the presigned image URLs in status answers
 * @param maxJobs      bound of the in-memory status view (least recently updated jobs are forgotten first)
 * @param readyTimeout how long start waits for the status view to catch up
 */
public record GatewayConfig(String host, int port, String kafkaBootstrap, ObjectStore.Config storage,
                            Duration presignTtl, int maxJobs, Duration readyTimeout) {

    public static final Duration DEFAULT_PRESIGN_TTL = Duration.ofHours(1);

    public GatewayConfig {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port must be in 0..65535, got " + port);
        }
        if (kafkaBootstrap == null || kafkaBootstrap.isBlank()) {
            throw new IllegalArgumentException("a Kafka bootstrap address is required");
        }
        if (storage == null) {
            throw new IllegalArgumentException("object storage settings are required");
        }
    }

    public static GatewayConfig of(String host, int port, String kafkaBootstrap, ObjectStore.Config storage) {
        return new GatewayConfig(host, port, kafkaBootstrap, storage, DEFAULT_PRESIGN_TTL,
                StatusView.DEFAULT_MAX_JOBS, Duration.ofSeconds(60));
    }
}
