package dalle2.registry;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle2.embedded.EmbeddedServersExtension;
import dalle2.kafka.KafkaClients;
import dalle2.messages.ModelLineage;
import dalle2.messages.ModelManifest;
import dalle2.messages.ModelPin;
import dalle2.messages.ModelVersion;
import dalle2.registry.ModelRegistry.PublishInfo;
import dalle2.storage.ObjectStore;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The registry against a real broker and S3 server (here, because the embedded servers live in this module and
 * depend on the runtime module the registry is in): publish, announce, fetch with verification, pins.
 */
class ModelRegistryTest {

    @RegisterExtension
    static final EmbeddedServersExtension servers = EmbeddedServersExtension.kafkaAndS3();

    private static ObjectStore store;
    private static ModelRegistry registry;

    @TempDir
    Path tmp;

    @BeforeAll
    static void start() {
        servers.createTopics(1, 1, 1);
        store = servers.closeAfterAll(new ObjectStore(servers.storage("registry-test")));
        store.ensureBucket();
        KafkaProducer<String, byte[]> producer = servers.closeAfterAll(KafkaClients.producer(servers.bootstrap(), "test"));
        registry = new ModelRegistry(store, producer);
    }

    private Path model(String name, String weights, String config) throws Exception {
        Path dir = Files.createDirectories(tmp.resolve(name));
        Files.writeString(dir.resolve("weights.safetensors"), weights);
        Files.writeString(dir.resolve("config.json"), config);
        Files.writeString(dir.resolve("MODEL_CARD.md"), "# card of " + name);
        return dir;
    }

    @Test
    void aPublishedVersionIsContentAddressedImmutableAndFetchedVerified() throws Exception {
        Path dir = model("decoder-a", "weights-a", "{\"base\":16}");
        ModelManifest published = registry.publish("decoder", dir, PublishInfo.upload("clip@000000000001"));
        assertTrue(published.version().startsWith("decoder@"), published.version());
        assertEquals(new ModelLineage("clip@000000000001", null), published.lineage());
        assertTrue(published.files().keySet().containsAll(java.util.List.of("weights.safetensors", "config.json",
                "MODEL_CARD.md", ModelLineage.FILE)), published.files().toString());

        // the same files again: the same version, nothing changes; another CLIP: another version
        Files.writeString(dir.resolve("MODEL_CARD.md"), "# an edited card");
        ModelManifest again = registry.publish("decoder", dir, PublishInfo.upload("clip@000000000001"));
        assertEquals(published, again, "a document edit is not another model, and a version never changes");
        ModelManifest otherClip = registry.publish("decoder", dir, PublishInfo.upload("clip@000000000002"));
        assertNotEquals(published.version(), otherClip.version(), "the CLIP it works in is part of a version");

        Path fetched = registry.fetch(published, tmp.resolve("cache"));
        assertEquals(published.version(), ModelVersion.of("decoder", fetched));
        assertArrayEquals("weights-a".getBytes(StandardCharsets.UTF_8), Files.readAllBytes(fetched.resolve("weights.safetensors")));
        assertEquals("# card of decoder-a", Files.readString(fetched.resolve("MODEL_CARD.md")), "the card as first published");
        assertEquals(ModelLineage.in(fetched).orElseThrow(), published.lineage());
        assertEquals(fetched, registry.fetch(published, tmp.resolve("cache")), "a verified folder in the cache is reused");
    }

    @Test
    void aFetchRefusesAFileWhoseDigestIsNotTheManifests() throws Exception {
        Path folder = model("up", "weights-up", "{}");
        ModelManifest published = registry.publish("upsampler", folder, PublishInfo.upload(null));
        assertEquals(ModelVersion.of("upsampler", folder), published.version(),
                "a model made from nothing else keeps its folder's version: no lineage file is added");
        assertFalse(published.files().containsKey(ModelLineage.FILE));
        store.put(ModelRegistry.versionPrefix("upsampler", published.version()) + "weights.safetensors",
                "tampered".getBytes(StandardCharsets.UTF_8), "application/octet-stream");
        UncheckedIOException refused = assertThrows(UncheckedIOException.class,
                () -> registry.fetch(published, tmp.resolve("cache2")));
        assertTrue(refused.getMessage().contains("weights.safetensors has SHA-256"), refused.getMessage());
        assertFalse(Files.exists(tmp.resolve("cache2").resolve("upsampler").resolve(published.version())),
                "nothing half-fetched is left where a worker would load it");
    }

    @Test
    void aPriorOrDecoderMustNameItsClipAndPinsNamePublishedVersions() throws Exception {
        IllegalArgumentException noClip = assertThrows(IllegalArgumentException.class,
                () -> registry.publish("prior", model("p", "w", "{}"), PublishInfo.upload(null)));
        assertTrue(noClip.getMessage().contains("must name the CLIP"), noClip.getMessage());
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class,
                () -> registry.pin(ModelPin.of("prior", "prior@ffffffffffff", null, 0, Instant.now())));
        assertTrue(unknown.getMessage().contains("no published prior version prior@ffffffffffff"), unknown.getMessage());
    }

    @Test
    void theCatalogSeesVersionsInOrderAndTheLastPin() throws Exception {
        ModelManifest first = registry.publish("clip", model("c1", "clip-1", "{}"), PublishInfo.upload(null));
        ModelManifest second = registry.publish("clip", model("c2", "clip-2", "{}"), PublishInfo.upload(null));
        registry.pin(ModelPin.of("clip", second.version(), null, 0, Instant.now()));
        registry.pin(ModelPin.of("clip", first.version(), second.version(), 25, Instant.now()));
        try (ModelCatalog catalog = new ModelCatalog(servers.bootstrap(), "test").start()) {
            assertTrue(catalog.awaitCaughtUp(Duration.ofSeconds(30)));
            assertEquals(second, catalog.latest("clip").orElseThrow());
            assertEquals(first, catalog.resolve("clip", first.version()).orElseThrow());
            ModelPin pin = catalog.pin("clip").orElseThrow();
            assertEquals(first.version(), pin.stable());
            assertEquals(25, pin.canaryPercent());
            int canaryJobs = 0;
            for (int i = 0; i < 1000; i++) {
                canaryJobs += pin.routesToCanary("job-" + i) ? 1 : 0;
                assertEquals(pin.routesToCanary("job-" + i), pin.routesToCanary("job-" + i));
            }
            assertTrue(canaryJobs > 180 && canaryJobs < 320, "about a quarter of jobs: " + canaryJobs);
        }
        try (InputStream manifest = store.get(ModelRegistry.versionPrefix("clip", first.version())
                + ModelRegistry.MANIFEST).orElseThrow()) {
            assertTrue(new String(manifest.readAllBytes(), StandardCharsets.UTF_8).contains("\"role\":\"clip\""));
        }
        assertEquals(Map.of(), first.evaluation());
    }
}
