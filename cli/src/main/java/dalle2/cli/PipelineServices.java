package dalle2.cli;

import ai.djl.Device;
import dalle2.decoder.DecoderWorker;
import dalle2.djl.DeviceChoice;
import dalle2.gateway.Gateway;
import dalle2.gateway.GatewayConfig;
import dalle2.gateway.GatewayPolicy;
import dalle2.gateway.ImageSizes;
import dalle2.inference.ImageDecoderModel;
import dalle2.inference.ImageEmbeddingModel;
import dalle2.inference.ImageUpsamplerModel;
import dalle2.inference.ModelProvider;
import dalle2.pipeline.StageWorker;
import dalle2.prior.PriorWorker;
import dalle2.storage.ObjectStore;
import dalle2.upsampler.UpsamplerWorker;
import java.nio.file.Path;
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
     * @param gatewayPort      0 for any free port; -1 for no gateway
     * @param decoderMaxBatch  0 to let the device decide ({@link DeviceChoice#defaultMaxBatch})
     * @param upsamplerWorkers with any, the gateway serves every size ({@link ImageSizes#WITH_UPSAMPLER}); each
     *                         batches by its device ({@link UpsamplerWorker#defaultMaxBatch})
     */
    public record Settings(String bootstrap, ObjectStore.Config storage, String host, int gatewayPort,
                           int priorWorkers, int decoderWorkers, DeviceChoice device, int priorMaxBatch,
                           int decoderMaxBatch, Duration maxWait, int upsamplerWorkers, Path registryCache) {
        public Settings {
            if (priorWorkers < 0 || decoderWorkers < 0 || upsamplerWorkers < 0) {
                throw new IllegalArgumentException("worker counts must be >= 0");
            }
        }

        /** The services without an upsampler pool. */
        public Settings(String bootstrap, ObjectStore.Config storage, String host, int gatewayPort, int priorWorkers,
                        int decoderWorkers, DeviceChoice device, int priorMaxBatch, int decoderMaxBatch,
                        Duration maxWait) {
            this(bootstrap, storage, host, gatewayPort, priorWorkers, decoderWorkers, device, priorMaxBatch,
                    decoderMaxBatch, maxWait, 0, null);
        }

        /** The services with workers following the model registry, fetching versions into {@code cache}. */
        public Settings followingRegistry(Path cache) {
            return new Settings(bootstrap, storage, host, gatewayPort, priorWorkers, decoderWorkers, device,
                    priorMaxBatch, decoderMaxBatch, maxWait, upsamplerWorkers, cache);
        }

        public static Settings of(String bootstrap, ObjectStore.Config storage, int gatewayPort, int priorWorkers,
                                  int decoderWorkers) {
            return of(bootstrap, storage, gatewayPort, priorWorkers, decoderWorkers, 0);
        }

        public static Settings of(String bootstrap, ObjectStore.Config storage, int gatewayPort, int priorWorkers,
                                  int decoderWorkers, int upsamplerWorkers) {
            return new Settings(bootstrap, storage, "127.0.0.1", gatewayPort, priorWorkers, decoderWorkers,
                    DeviceChoice.CPU, 8, 0, Duration.ofMillis(20), upsamplerWorkers, null);
        }

        public ImageSizes sizes() {
            return upsamplerWorkers > 0 ? ImageSizes.WITH_UPSAMPLER : ImageSizes.BASE_ONLY;
        }
    }

    /** How long a starting worker waits for its status view to catch up before it joins its group anyway. */
    static final Duration WORKER_START_TIMEOUT = Duration.ofSeconds(60);

    private final Gateway gateway;
    private final List<PriorWorker> priors;
    private final List<DecoderWorker> decoders;
    private final List<UpsamplerWorker> upsamplers;

    private PipelineServices(Gateway gateway, List<PriorWorker> priors, List<DecoderWorker> decoders,
                             List<UpsamplerWorker> upsamplers) {
        this.gateway = gateway;
        this.priors = priors;
        this.decoders = decoders;
        this.upsamplers = upsamplers;
    }

    /** The services with a {@link GatewayPolicy#loopback()} gateway (tests and benchmarks on loopback). */
    public static PipelineServices start(Settings s, ModelProvider models) throws Exception {
        return start(s, models, GatewayPolicy.loopback());
    }

    public static PipelineServices start(Settings s, ModelProvider models, GatewayPolicy policy) throws Exception {
        Gateway gateway = null;
        List<PriorWorker> priors = new ArrayList<>();
        List<DecoderWorker> decoders = new ArrayList<>();
        List<UpsamplerWorker> upsamplers = new ArrayList<>();
        try {
            if (s.gatewayPort() >= 0) {
                gateway = Gateway.start(GatewayConfig.of(s.host(), s.gatewayPort(), s.bootstrap(), s.storage(),
                        policy).withSizes(s.sizes()));
            }
            for (int i = 0; i < s.priorWorkers(); i++) {
                priors.add(startPriorWorker(workerConfig(s.bootstrap(), "prior-" + i, s.priorMaxBatch(),
                        s.maxWait()), models, following(s, "prior-" + i)));
            }
            if (s.decoderWorkers() > 0) {
                Device device = s.device().resolve();
                int maxBatch = s.decoderMaxBatch() > 0 ? s.decoderMaxBatch() : DeviceChoice.defaultMaxBatch(device);
                for (int i = 0; i < s.decoderWorkers(); i++) {
                    decoders.add(startDecoderWorker(workerConfig(s.bootstrap(), "decoder-" + i, maxBatch,
                            s.maxWait()), s.storage(), device, models, following(s, "decoder-" + i)));
                }
            }
            if (s.upsamplerWorkers() > 0) {
                Device device = s.device().resolve();
                for (int i = 0; i < s.upsamplerWorkers(); i++) {
                    upsamplers.add(startUpsamplerWorker(workerConfig(s.bootstrap(), "upsampler-" + i,
                            UpsamplerWorker.defaultMaxBatch(device), s.maxWait()), s.storage(), device, models,
                            following(s, "upsampler-" + i)));
                }
            }
            return new PipelineServices(gateway, priors, decoders, upsamplers);
        } catch (Exception | Error e) {
            new PipelineServices(gateway, priors, decoders, upsamplers).close();
            throw e;
        }
    }

    private static RegistryFollowing following(Settings s, String workerId) throws InterruptedException {
        return s.registryCache() == null ? null
                : RegistryFollowing.connect(s.bootstrap(), s.storage(), s.registryCache(), workerId);
    }

    /** A worker's settings: {@link StageWorker.Config#defaults} with batches of up to {@code maxBatch} images. */
    static StageWorker.Config workerConfig(String bootstrap, String workerId, int maxBatch, Duration maxWait) {
        StageWorker.Config d = StageWorker.Config.defaults(bootstrap, workerId, maxBatch);
        return new StageWorker.Config(d.bootstrap(), d.workerId(), d.maxBatch(), maxWait, d.maxInFlightImages(),
                d.progressInterval(), d.drainTimeout(), d.statusViewMaxJobs());
    }

    /** One prior worker with its own copy of the models, started: status view caught up, member of its group. */
    static PriorWorker startPriorWorker(StageWorker.Config config, ModelProvider models)
            throws InterruptedException {
        return startPriorWorker(config, models, null);
    }

    /** The same, following the registry when {@code following} is not null. */
    static PriorWorker startPriorWorker(StageWorker.Config config, ModelProvider models, RegistryFollowing following)
            throws InterruptedException {
        ImageEmbeddingModel local = models.embeddingModel();
        return started(following == null ? new PriorWorker(config, local)
                : new PriorWorker(config, following.priors(local)));
    }

    /**
     * One decoder worker on {@code device} with its own models and object store (the bucket created when
     * missing), started.
     */
    static DecoderWorker startDecoderWorker(StageWorker.Config config, ObjectStore.Config storage, Device device,
                                            ModelProvider models) throws InterruptedException {
        return startDecoderWorker(config, storage, device, models, null);
    }

    /** The same, following the registry when {@code following} is not null. */
    static DecoderWorker startDecoderWorker(StageWorker.Config config, ObjectStore.Config storage, Device device,
                                            ModelProvider models, RegistryFollowing following)
            throws InterruptedException {
        ObjectStore store = bucketReady(storage);
        ImageDecoderModel local = models.decoderModel(device);
        return started(following == null ? new DecoderWorker(config, local, store)
                : new DecoderWorker(config, following.decoders(local, device), store));
    }

    /**
     * A decoder worker around a model the caller loaded (and may have warmed up), started; the worker owns the
     * model from here and frees it when it closes.
     */
    static DecoderWorker startDecoderWorker(StageWorker.Config config, ObjectStore.Config storage,
                                            ImageDecoderModel model) throws InterruptedException {
        ObjectStore store;
        try {
            store = bucketReady(storage);
        } catch (RuntimeException | Error e) {
            model.close();
            throw e;
        }
        return started(new DecoderWorker(config, model, store));
    }

    /** One upsampler worker on {@code device} with its own model and object store, started. */
    static UpsamplerWorker startUpsamplerWorker(StageWorker.Config config, ObjectStore.Config storage, Device device,
                                                ModelProvider models) throws InterruptedException {
        return startUpsamplerWorker(config, storage, device, models, null);
    }

    /** The same, following the registry when {@code following} is not null. */
    static UpsamplerWorker startUpsamplerWorker(StageWorker.Config config, ObjectStore.Config storage, Device device,
                                                ModelProvider models, RegistryFollowing following)
            throws InterruptedException {
        ObjectStore store = bucketReady(storage);
        ImageUpsamplerModel local = models.upsamplerModel(device);
        return started(following == null ? new UpsamplerWorker(config, local, store)
                : new UpsamplerWorker(config, following.upsamplers(local, device), store));
    }

    /** A store whose bucket exists (created when missing). */
    private static ObjectStore bucketReady(ObjectStore.Config storage) {
        ObjectStore store = new ObjectStore(storage);
        try {
            store.ensureBucket();
            return store;
        } catch (RuntimeException e) {
            store.close();
            throw e;
        }
    }

    private static <W extends StageWorker<?, ?, ?, ?>> W started(W worker) throws InterruptedException {
        try {
            worker.start(WORKER_START_TIMEOUT);
            return worker;
        } catch (InterruptedException | RuntimeException | Error e) {
            worker.close();
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

    public List<UpsamplerWorker> upsamplerWorkers() {
        return upsamplers;
    }

    /** Stops the workers first (they finish what they took and commit), then the gateway. */
    @Override
    public void close() {
        List<StageWorker<?, ?, ?, ?>> workers = new ArrayList<>(priors);
        workers.addAll(decoders);
        workers.addAll(upsamplers);
        workers.parallelStream().forEach(w -> {
            try {
                w.close();
            } catch (RuntimeException e) {
                LOG.warn("error while stopping a worker", e);
            }
        });
        if (gateway != null) {
            try {
                gateway.close();
            } catch (Exception e) {
                LOG.warn("error while stopping the gateway", e);
            }
        }
    }
}
