package dalle2.cli;

import ai.djl.Device;
import dalle2.decoder.DecoderWorker;
import dalle2.decoder.DeviceChoice;
import dalle2.gateway.Gateway;
import dalle2.gateway.GatewayConfig;
import dalle2.inference.ModelProvider;
import dalle2.pipeline.StageWorker;
import dalle2.prior.PriorWorker;
import dalle2.storage.ObjectStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A gateway and worker pools in this process, against a Kafka cluster and object storage that run elsewhere (or
 * embedded: {@link EmbeddedStack}). What {@code up} and the end-to-end tests run.
 */
public final class PipelineServices implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(PipelineServices.class);

    /**
     * @param gatewayPort     0 for any free port; -1 for no gateway
     * @param decoderMaxBatch 0 to let the device decide ({@link DeviceChoice#defaultMaxBatch})
     */
    public record Settings(String bootstrap, ObjectStore.Config storage, String host, int gatewayPort,
                           int priorWorkers, int decoderWorkers, DeviceChoice device, int priorMaxBatch,
                           int decoderMaxBatch, Duration maxWait) {
        public Settings {
            if (priorWorkers < 0 || decoderWorkers < 0) {
                throw new IllegalArgumentException("worker counts must be >= 0");
            }
        }

        public static Settings of(String bootstrap, ObjectStore.Config storage, int gatewayPort, int priorWorkers,
                                  int decoderWorkers) {
            return new Settings(bootstrap, storage, "127.0.0.1", gatewayPort, priorWorkers, decoderWorkers,
                    DeviceChoice.CPU, 8, 0, Duration.ofMillis(20));
        }
    }

    private final Gateway gateway;
    private final List<PriorWorker> priors;
    private final List<DecoderWorker> decoders;
    private final List<ObjectStore> stores;

    private PipelineServices(Gateway gateway, List<PriorWorker> priors, List<DecoderWorker> decoders,
                             List<ObjectStore> stores) {
        this.gateway = gateway;
        this.priors = priors;
        this.decoders = decoders;
        this.stores = stores;
    }

    public static PipelineServices start(Settings s, ModelProvider models) throws Exception {
        Gateway gateway = null;
        List<PriorWorker> priors = new ArrayList<>();
        List<DecoderWorker> decoders = new ArrayList<>();
        List<ObjectStore> stores = new ArrayList<>();
        try {
            if (s.gatewayPort() >= 0) {
                gateway = Gateway.start(GatewayConfig.of(s.host(), s.gatewayPort(), s.bootstrap(), s.storage()));
            }
            for (int i = 0; i < s.priorWorkers(); i++) {
                PriorWorker w = new PriorWorker(StageWorker.Config.defaults(s.bootstrap(), "prior-" + i,
                        s.priorMaxBatch()), models.embeddingModel());
                priors.add(w);
                w.start(Duration.ofSeconds(60));
            }
            if (s.decoderWorkers() > 0) {
                Device device = s.device().resolve();
                int maxBatch = s.decoderMaxBatch() > 0 ? s.decoderMaxBatch() : DeviceChoice.defaultMaxBatch(device);
                for (int i = 0; i < s.decoderWorkers(); i++) {
                    ObjectStore store = new ObjectStore(s.storage());
                    stores.add(store);
                    store.ensureBucket();
                    DecoderWorker w = new DecoderWorker(StageWorker.Config.defaults(s.bootstrap(), "decoder-" + i,
                            maxBatch), models.decoderModel(device), store);
                    decoders.add(w);
                    w.start(Duration.ofSeconds(60));
                }
            }
            return new PipelineServices(gateway, priors, decoders, stores);
        } catch (Exception | Error e) {
            new PipelineServices(gateway, priors, decoders, stores).close();
            throw e;
        }
    }

    /** {@code http://host:port} of the gateway. */
    public String gatewayUrl() {
        return "http://127.0.0.1:" + gateway.port();
    }

    public Gateway gateway() {
        return gateway;
    }

    public List<PriorWorker> priorWorkers() {
        return priors;
    }

    public List<DecoderWorker> decoderWorkers() {
        return decoders;
    }

    /** Stops the workers first (they finish what they took and commit), then the gateway. */
    @Override
    public void close() {
        List<StageWorker<?, ?, ?, ?>> workers = new ArrayList<>(priors);
        workers.addAll(decoders);
        workers.parallelStream().forEach(w -> {
            try {
                w.close();
            } catch (RuntimeException e) {
                LOG.warn("error while stopping a worker", e);
            }
        });
        stores.forEach(ObjectStore::close);
        if (gateway != null) {
            try {
                gateway.close();
            } catch (Exception e) {
                LOG.warn("error while stopping the gateway", e);
            }
        }
    }
}
