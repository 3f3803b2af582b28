package dalle2.cli;

import ai.djl.Device;
import dalle2.decoder.DecoderWorker;
import dalle2.inference.DallE2;
import dalle2.inference.ImageDecoderModel;
import dalle2.inference.ImageEmbeddingModel;
import dalle2.inference.ImageUpsamplerModel;
import dalle2.kafka.KafkaClients;
import dalle2.messages.ModelManifest;
import dalle2.messages.ModelPin;
import dalle2.messages.ModelVersion;
import dalle2.registry.ModelCatalog;
import dalle2.registry.ModelRegistry;
import dalle2.registry.ServedModels;
import dalle2.storage.ObjectStore;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.apache.kafka.clients.producer.KafkaProducer;

/**
 * Makes a pool member follow the model registry: its own catalog of the {@code models} topic, the registry's
 * store and producer, and the loader of its role's versions. Everything it opens is closed with the served
 * models (so with the worker).
 */
final class RegistryFollowing {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(RegistryFollowing.class);

    /** How long a starting worker waits to read the catalog before it serves its local models. */
    static final Duration CATALOG_WAIT = Duration.ofSeconds(30);

    private final ModelCatalog catalog;
    private final ModelRegistry registry;
    private final Path cache;
    private final ObjectStore store;
    private final KafkaProducer<String, byte[]> producer;

    private RegistryFollowing(String bootstrap, ObjectStore.Config storage, Path cache, String clientRole) {
        this.store = new ObjectStore(storage);
        this.producer = KafkaClients.producer(bootstrap, KafkaClients.clientId(clientRole + "-registry"));
        this.registry = new ModelRegistry(store, producer);
        this.catalog = new ModelCatalog(bootstrap, clientRole).start();
        this.cache = cache;
    }

    static RegistryFollowing connect(String bootstrap, ObjectStore.Config storage, Path cache, String clientRole)
            throws InterruptedException {
        RegistryFollowing following = new RegistryFollowing(bootstrap, storage, cache, clientRole);
        if (!following.catalog.awaitCaughtUp(CATALOG_WAIT)) {
            System.err.println("model catalog not read within " + CATALOG_WAIT.toSeconds()
                    + " s: serving the local models until it is");
        }
        return following;
    }

    private <M extends AutoCloseable> ServedModels<M> follow(String role, String initialVersion, M initial,
                                                            ServedModels.Loader<M> loader) {
        return ServedModels.following(role, initialVersion, initial, catalog, registry, cache, loader)
                .alsoClosing(store).alsoClosing(producer).alsoClosing(catalog);
    }

    /**
     * A prior pool: each prior version is loaded with the CLIP its lineage names (fetched too). The local stage
     * is served under its prior's version ({@code prior@…} of {@code prior@…+clip@…}), the key a registry version
     * of the same folder has, so following the registry does not load the same weights twice.
     */
    ServedModels<ImageEmbeddingModel> priors(ImageEmbeddingModel initial) {
        String initialVersion = ModelVersion.componentOf(initial.version(), "prior");
        return follow("prior", initialVersion != null ? initialVersion : initial.version(), initial, (manifest, dir) -> {
            String clip = manifest.lineage().clipVersion();
            ModelManifest clipManifest = catalog.version("clip", clip)
                    .or(() -> registry.manifest("clip", clip))
                    .orElseThrow(() -> new IllegalArgumentException("its CLIP " + clip + " is not published"));
            return DallE2.priorAt(dir, registry.fetch(clipManifest, cache));
        });
    }

    /**
     * A decoder pool. A version trained on another CLIP than the prior pool's pinned (or latest) version is still
     * loaded, with a warning: each job goes to a loaded decoder of its embeddings' CLIP (the worker's per-job
     * check), so a CLIP change rolls out decoder first, then prior, with no job drawn by the wrong decoder.
     */
    ServedModels<ImageDecoderModel> decoders(ImageDecoderModel initial, Device device) {
        return follow("decoder", initial.version(), initial, (manifest, dir) -> {
            ImageDecoderModel decoder = DallE2.decoderAt(dir, device);
            Optional<ModelManifest> prior = catalog.resolve("prior",
                    catalog.pin("prior").map(ModelPin::stable).orElse(ModelPin.LATEST));
            if (prior.isPresent()) {
                try {
                    DecoderWorker.requireSameClip(decoder, prior.get().version() + "+"
                            + prior.get().lineage().clipVersion());
                } catch (IllegalArgumentException e) {
                    LOG.warn("loading {} anyway: {}; embeddings of the prior's CLIP go to a loaded decoder of that "
                            + "CLIP, until the prior pool is pinned to one of the decoder's", manifest.version(),
                            e.getMessage());
                }
            }
            return decoder;
        });
    }

    ServedModels<ImageUpsamplerModel> upsamplers(ImageUpsamplerModel initial, Device device) {
        return follow("upsampler", initial.version(), initial, (manifest, dir) -> DallE2.upsamplerAt(dir, device));
    }
}
