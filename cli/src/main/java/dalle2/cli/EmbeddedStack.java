package dalle2.cli;

import dalle2.embedded.EmbeddedKafka;
import dalle2.embedded.EmbeddedS3;
import dalle2.gateway.GatewayPolicy;
import dalle2.inference.ModelProvider;
import dalle2.storage.ObjectStore;
import java.nio.file.Path;

/**
 * The one-machine stack: a Kafka broker and an S3 server in this JVM (data under {@code dataDir}), plus the gateway
 * and workers of {@link PipelineServices}: one upsampler worker too when the models include an upsampler (then the
 * gateway serves every size, 256 by default), else none (base-size images only).
 */
public final class EmbeddedStack implements AutoCloseable {

    public static final String BUCKET = "dalle2-images";

    private final EmbeddedKafka kafka;
    private final EmbeddedS3 s3;
    private final PipelineServices services;

    private EmbeddedStack(EmbeddedKafka kafka, EmbeddedS3 s3, PipelineServices services) {
        this.kafka = kafka;
        this.s3 = s3;
        this.services = services;
    }

    /**
     * @param dataDir Kafka's log under {@code kafka/}, the images under {@code s3/}; kept between runs
     */
    public static EmbeddedStack start(Path dataDir, int port, int priorWorkers, int decoderWorkers,
                                      ModelProvider models) throws Exception {
        // loopback only, called by this process alone: open mode is chosen explicitly here (logged at WARN)
        return start(dataDir, port, priorWorkers, decoderWorkers, models, GatewayPolicy.loopback());
    }

    /** The stack with the gateway's access, limits and retention. */
    public static EmbeddedStack start(Path dataDir, int port, int priorWorkers, int decoderWorkers,
                                      ModelProvider models, GatewayPolicy policy) throws Exception {
        return start(dataDir, port, priorWorkers, decoderWorkers, models.hasUpsampler() ? 1 : 0, models, policy);
    }

    /** The stack with {@code upsamplerWorkers} upsampler workers (0 without an upsampler model). */
    public static EmbeddedStack start(Path dataDir, int port, int priorWorkers, int decoderWorkers,
                                      int upsamplerWorkers, ModelProvider models, GatewayPolicy policy)
            throws Exception {
        return start(dataDir, port, priorWorkers, decoderWorkers, upsamplerWorkers, models, policy, null);
    }

    /**
     * The stack whose workers follow the model registry (on its own broker and S3 server), fetching versions into
     * {@code registryCache}; null: they run {@code models} for their whole life.
     */
    public static EmbeddedStack start(Path dataDir, int port, int priorWorkers, int decoderWorkers,
                                      int upsamplerWorkers, ModelProvider models, GatewayPolicy policy,
                                      Path registryCache) throws Exception {
        if (upsamplerWorkers > 0 && !models.hasUpsampler()) {
            throw new IllegalArgumentException("upsampler workers need an upsampler model (a "
                    + dalle2.inference.DallE2.UPSAMPLER_DIR + "/ folder beside the others)");
        }
        EmbeddedKafka kafka = EmbeddedKafka.start(dataDir.resolve("kafka"));
        EmbeddedS3 s3 = null;
        try {
            s3 = EmbeddedS3.onDisk(dataDir.resolve("s3"), EmbeddedS3.DEFAULT_ACCESS_KEY, EmbeddedS3.DEFAULT_SECRET_KEY);
            PipelineServices.Settings settings = PipelineServices.Settings.of(kafka.bootstrap(),
                    new ObjectStore.Config(s3.endpoint(), s3.accessKey(), s3.secretKey(), BUCKET), port, priorWorkers,
                    decoderWorkers, upsamplerWorkers);
            PipelineServices services = PipelineServices.start(registryCache == null ? settings
                    : settings.followingRegistry(registryCache), models, policy);
            return new EmbeddedStack(kafka, s3, services);
        } catch (Exception | Error e) {
            if (s3 != null) {
                s3.close();
            }
            kafka.close();
            throw e;
        }
    }

    public String gatewayUrl() {
        return services.gatewayUrl();
    }

    public String kafkaBootstrap() {
        return kafka.bootstrap();
    }

    public String s3Endpoint() {
        return s3.endpoint();
    }

    public PipelineServices services() {
        return services;
    }

    @Override
    public void close() {
        services.close();
        s3.close();
        kafka.close();
    }
}
