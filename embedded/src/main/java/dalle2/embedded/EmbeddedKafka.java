package dalle2.embedded;

import dalle2.kafka.KafkaClients;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import kafka.tools.StorageTool;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;

/**
 * A real single-node Kafka broker (KRaft: broker and controller in one) inside this JVM, listening on loopback
 * only, on free ports. Its log directory is a folder of the caller's (kept between runs: a restart finds its
 * topics and committed offsets) or a temporary one (deleted on close). The recipe (StorageTool format once, then KafkaRaftServer) is in CONTRIBUTING.md.
 */
public final class EmbeddedKafka implements AutoCloseable {

    private static final String HOST = "127.0.0.1";

    private final KafkaRaftServer server;
    private final String bootstrap;
    private final Path dataDir;
    private final boolean temporary;

    private EmbeddedKafka(KafkaRaftServer server, String bootstrap, Path dataDir, boolean temporary) {
        this.server = server;
        this.bootstrap = bootstrap;
        this.dataDir = dataDir;
        this.temporary = temporary;
    }

    /** Starts a broker with a temporary log directory. */
    public static EmbeddedKafka start() {
        try {
            return start(Files.createTempDirectory("dalle2-kafka-"), true);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Starts a broker whose log directory is {@code dataDir} (created and formatted on first use). */
    public static EmbeddedKafka start(Path dataDir) {
        return start(dataDir, false);
    }

    private static EmbeddedKafka start(Path dataDir, boolean temporary) {
        try {
            Files.createDirectories(dataDir);
            int brokerPort = freePort();
            int controllerPort = freePort();
            Properties props = properties(dataDir, brokerPort, controllerPort);
            Path propsFile = dataDir.resolve("server.properties");
            try (var out = Files.newOutputStream(propsFile)) {
                props.store(out, "embedded single-node KRaft broker (generated)");
            }
            format(dataDir, propsFile);
            KafkaRaftServer server = new KafkaRaftServer(new KafkaConfig(props), Time.SYSTEM);
            server.startup();
            String bootstrap = HOST + ":" + brokerPort;
            EmbeddedKafka kafka = new EmbeddedKafka(server, bootstrap, dataDir, temporary);
            kafka.awaitReady(30_000);
            return kafka;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start the embedded Kafka broker in " + dataDir, e);
        }
    }

    static Properties properties(Path dataDir, int brokerPort, int controllerPort) {
        Properties p = new Properties();
        p.put("process.roles", "broker,controller");
        p.put("node.id", "1");
        p.put("controller.quorum.voters", "1@" + HOST + ":" + controllerPort);
        p.put("listeners", "PLAINTEXT://" + HOST + ":" + brokerPort + ",CONTROLLER://" + HOST + ":" + controllerPort);
        p.put("advertised.listeners", "PLAINTEXT://" + HOST + ":" + brokerPort);
        p.put("controller.listener.names", "CONTROLLER");
        p.put("inter.broker.listener.name", "PLAINTEXT");
        p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        p.put("log.dirs", dataDir.resolve("logs").toAbsolutePath().toString());
        // one node: every internal topic has one replica
        p.put("offsets.topic.replication.factor", "1");
        p.put("offsets.topic.num.partitions", "5");
        p.put("transaction.state.log.replication.factor", "1");
        p.put("transaction.state.log.min.isr", "1");
        p.put("share.coordinator.state.topic.replication.factor", "1");
        p.put("share.coordinator.state.topic.min.isr", "1");
        p.put("default.replication.factor", "1");
        // fast group joins and KIP-848 rebalances (2 s instead of 6 s, CONTRIBUTING.md)
        p.put("group.initial.rebalance.delay.ms", "0");
        p.put("group.consumer.heartbeat.interval.ms", "500");
        p.put("group.consumer.min.heartbeat.interval.ms", "500");
        // lets a test give one group a session shorter than the 45 s default (a group config), so that a member
        // it kills loses its partitions in seconds; every group keeps the default unless a test sets its own
        p.put("group.consumer.min.session.timeout.ms", "1000");
        return p;
    }

    /**
     * Formats the log directory on first use only. A directory formatted before keeps its cluster id: formatting
     * it again with a new id (even with {@code --ignore-formatted}) leaves a bootstrap record whose id the broker
     * then refuses against its own {@code meta.properties} ("Invalid cluster.id").
     */
    private static void format(Path dataDir, Path propsFile) throws IOException {
        if (existingClusterId(dataDir) != null) {
            return;
        }
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        String clusterId = Uuid.randomUuid().toString();
        int code;
        try (PrintStream out = new PrintStream(log, true, StandardCharsets.UTF_8)) {
            code = StorageTool.execute(new String[] {"format", "-t", clusterId, "-c", propsFile.toString()}, out);
        }
        if (code != 0) {
            throw new IllegalStateException("kafka storage format failed in " + dataDir + ": "
                    + log.toString(StandardCharsets.UTF_8));
        }
    }

    /** The cluster id a formatted log directory carries, or null when it was never formatted. */
    static String existingClusterId(Path dataDir) throws IOException {
        Path meta = dataDir.resolve("logs").resolve("meta.properties");
        if (!Files.isRegularFile(meta)) {
            return null;
        }
        Properties p = new Properties();
        try (var in = Files.newInputStream(meta)) {
            p.load(in);
        }
        String id = p.getProperty("cluster.id");
        if (id == null || id.isBlank()) {
            throw new IllegalStateException(meta + " has no cluster.id; move the folder away to start afresh");
        }
        return id;
    }

    private void awaitReady(long timeoutMs) {
        long deadline = System.currentTimeMillis() + timeoutMs;
        try (Admin admin = KafkaClients.admin(bootstrap, "embedded-readiness")) {
            while (true) {
                try {
                    admin.describeCluster().nodes().get(2, TimeUnit.SECONDS);
                    return;
                } catch (Exception e) {
                    if (System.currentTimeMillis() > deadline) {
                        close();
                        throw new IllegalStateException("embedded Kafka not ready after " + timeoutMs + " ms", e);
                    }
                    if (e instanceof InterruptedException) {
                        Thread.currentThread().interrupt();
                        throw new IllegalStateException("interrupted", e);
                    }
                }
            }
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName(HOST))) {
            socket.setReuseAddress(true);
            return socket.getLocalPort();
        }
    }

    /** {@code 127.0.0.1:<port>} */
    public String bootstrap() {
        return bootstrap;
    }

    public Path dataDir() {
        return dataDir;
    }

    @Override
    public void close() {
        server.shutdown();
        server.awaitShutdown();
        if (temporary) {
            deleteRecursively(dataDir);
        }
    }

    static void deleteRecursively(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // a leftover temporary folder is harmless
        }
    }
}
