package dalle2.cli;

import dalle2.kafka.KafkaClients;
import dalle2.messages.ModelLineage;
import dalle2.messages.ModelManifest;
import dalle2.messages.ModelPin;
import dalle2.messages.ModelVersion;
import dalle2.models.HalfPrecisionWeights;
import dalle2.registry.ModelCatalog;
import dalle2.registry.ModelRegistry.PublishInfo;
import dalle2.registry.ModelRegistry;
import dalle2.storage.ObjectStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.producer.KafkaProducer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine;

/**
 * {@code dalle2 models}: the model registry by hand — publish a model folder as a version, pin the version a
 * pool runs (with a canary share), list what is published — and storing a model folder's weights in float16.
 */
@Command(name = "models", mixinStandardHelpOptions = true,
        description = "Publish model versions, pin the version each pool runs, list them; store weights in float16.",
        subcommands = {ModelsCommand.Publish.class, ModelsCommand.Pin.class, ModelsCommand.ListVersions.class,
                ModelsCommand.Half.class})
public final class ModelsCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "name a subcommand: publish, pin, list or half");
    }

    /** Runs a subcommand, reporting a bad argument as a usage error: its message, exit code 2, no stack trace. */
    static Integer refusingBadArguments(CommandLine.Model.CommandSpec spec, Callable<Integer> body) throws Exception {
        try {
            return body.call();
        } catch (IllegalArgumentException e) {
            spec.commandLine().getErr().println(spec.qualifiedName() + ": " + e.getMessage());
            return CommandLine.ExitCode.USAGE;
        }
    }

    /** A registry on the configured Kafka and storage, closed with it. */
    static final class Connected implements AutoCloseable {
        final ObjectStore store;
        final KafkaProducer<String, byte[]> producer;
        final ModelRegistry registry;

        Connected(ConnectionOptions connection) {
            this.store = new ObjectStore(connection.storage());
            this.producer = KafkaClients.producer(connection.kafka, KafkaClients.clientId("models-cli"));
            this.registry = new ModelRegistry(store, producer);
            store.ensureBucket();
        }

        @Override
        public void close() {
            producer.close(Duration.ofSeconds(5));
            store.close();
        }
    }

    @Command(name = "publish", mixinStandardHelpOptions = true,
            description = "Publish a model folder as a version of ROLE (content-addressed: the same files give the "
                    + "same version).")
    static final class Publish implements Callable<Integer> {
        @Mixin
        ConnectionOptions connection;

        @Parameters(index = "0", paramLabel = "ROLE", description = "clip, prior, decoder or upsampler")
        String role;

        @Parameters(index = "1", paramLabel = "DIR", description = "the model folder (weights.safetensors, config)")
        Path dir;

        @Option(names = "--clip", description = "the CLIP version a prior or decoder was trained against "
                + "(default: the folder's lineage.json)")
        String clip;

        @Option(names = "--base", description = "the version it was trained from, if any")
        String base;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            return refusingBadArguments(spec, this::publish);
        }

        private Integer publish() {
            ModelManifest.requireRole(role);
            if (!Files.isRegularFile(dir.resolve("weights.safetensors"))) {
                throw new IllegalArgumentException("DIR: no weights.safetensors in " + dir);
            }
            ModelLineage recorded = ModelLineage.in(dir).orElse(new ModelLineage(null, null));
            String clipVersion = clip != null ? clip : recorded.clipVersion();
            String baseVersion = base != null ? base : recorded.baseVersion();
            if ((role.equals("prior") || role.equals("decoder")) && clipVersion == null) {
                throw new IllegalArgumentException("--clip: a " + role + " version names the CLIP it was trained "
                        + "against, and " + dir + " records none");
            }
            try (Connected c = new Connected(connection)) {
                ModelManifest m = c.registry.publish(role, dir,
                        new PublishInfo(clipVersion, baseVersion, null, Map.of()));
                System.out.println(m.version() + "  (" + m.files().size() + " files, lineage clip "
                        + m.lineage().clipVersion() + ")");
            }
            return 0;
        }
    }

    @Command(name = "pin", mixinStandardHelpOptions = true,
            description = "Set the version ROLE's pool runs: a version or 'latest', optionally with a canary that "
                    + "takes a share of new jobs. Pinning the previous version again is the rollback.")
    static final class Pin implements Callable<Integer> {
        @Mixin
        ConnectionOptions connection;

        @Parameters(index = "0", paramLabel = "ROLE", description = "clip, prior, decoder or upsampler")
        String role;

        @Parameters(index = "1", paramLabel = "VERSION", description = "a published version, or latest")
        String stable;

        @Option(names = "--canary", description = "a published version that takes --canary-percent of new jobs")
        String canary;

        @Option(names = "--canary-percent", defaultValue = "0", description = "0-100 (default ${DEFAULT-VALUE})")
        int canaryPercent;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            return refusingBadArguments(spec, this::pin);
        }

        private Integer pin() {
            ModelPin pin = ModelPin.of(role, stable, canary, canaryPercent, Instant.now());
            try (Connected c = new Connected(connection)) {
                c.registry.pin(pin);
            }
            System.out.println(role + " pinned to " + stable + (canary == null ? ""
                    : " with " + canaryPercent + " % of new jobs on " + canary));
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List ROLE's published versions and its pin.")
    static final class ListVersions implements Callable<Integer> {
        @Mixin
        ConnectionOptions connection;

        @Parameters(index = "0", paramLabel = "ROLE", description = "clip, prior, decoder or upsampler")
        String role;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            return refusingBadArguments(spec, this::list);
        }

        private Integer list() throws InterruptedException {
            ModelManifest.requireRole(role);
            try (ModelCatalog catalog = new ModelCatalog(connection.kafka, "models-cli").start()) {
                if (!catalog.awaitCaughtUp(Duration.ofSeconds(30))) {
                    throw new IllegalStateException("cannot read the models topic at " + connection.kafka);
                }
                List<ModelManifest> versions = catalog.versions(role);
                for (ModelManifest m : versions) {
                    System.out.println(m.version() + "  " + m.createdAt() + "  clip " + m.lineage().clipVersion()
                            + (m.trainingId() == null ? "" : "  training " + m.trainingId()));
                }
                System.out.println("pin: " + catalog.pin(role).map(p -> p.stable()
                        + (p.canary() == null ? "" : " + canary " + p.canary() + " at " + p.canaryPercent() + " %"))
                        .orElse("none (pools follow the latest)"));
            }
            return 0;
        }
    }

    @Command(name = "half", mixinStandardHelpOptions = true,
            description = "Store the weights of model folders in float16 (half the bytes; loading widens them back "
                    + "exactly, so evaluate the model after this). A new version: the folder's content changes.")
    static final class Half implements Callable<Integer> {
        @Parameters(arity = "1..*", paramLabel = "MODEL_DIR", description = "model folders (weights.safetensors)")
        List<Path> dirs;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            return refusingBadArguments(spec, this::store);
        }

        private Integer store() throws IOException {
            for (Path dir : dirs) {
                if (!Files.isRegularFile(dir.resolve("weights.safetensors"))) {
                    throw new IllegalArgumentException(dir + " is not a model folder: it has no weights.safetensors");
                }
            }
            for (Path dir : dirs) {
                String before = ModelVersion.of(dir);
                HalfPrecisionWeights.Report r = HalfPrecisionWeights.store(dir.resolve("weights.safetensors"));
                System.out.printf("%s: %,d values, %.1f -> %.1f MB, largest change %.3g (relative %.3g); %s -> %s%n",
                        dir, r.parameters(), r.bytesBefore() / 1e6, r.bytesAfter() / 1e6, r.maxAbsChange(),
                        r.maxRelChange(), before, ModelVersion.of(dir));
            }
            return 0;
        }
    }
}
