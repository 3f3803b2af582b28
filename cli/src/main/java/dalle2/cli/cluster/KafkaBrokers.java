package dalle2.cli.cluster;

import dalle2.kafka.KafkaClients;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.Uuid;

/**
 * A Kafka cluster of separate broker processes on loopback, KRaft mode, each node broker and controller with a
 * static quorum of all nodes; replication factor 3 and {@code min.insync.replicas=2} for every topic, internal
 * ones included. Each node keeps its cluster id in its log folder: it is formatted on first start only, so a
 * restarted broker finds its own log.
 */
public final class KafkaBrokers implements AutoCloseable {

    private static final String HOST = "127.0.0.1";

    private final List<ManagedProcess> brokers = new ArrayList<>();
    private final List<Integer> brokerPorts;
    private final JvmLauncher launcher;
    private final Path dir;

    public KafkaBrokers(JvmLauncher launcher, Path dir, List<Integer> brokerPorts, List<Integer> controllerPorts) {
        this.launcher = launcher;
        this.dir = dir;
        this.brokerPorts = List.copyOf(brokerPorts);
        String voters = java.util.stream.IntStream.range(0, controllerPorts.size())
                .mapToObj(i -> (i + 1) + "@" + HOST + ":" + controllerPorts.get(i)).collect(Collectors.joining(","));
        for (int i = 0; i < brokerPorts.size(); i++) {
            Path nodeDir = dir.resolve("broker-" + (i + 1));
            Path props = writeProperties(nodeDir, i + 1, brokerPorts.get(i), controllerPorts.get(i), voters,
                    brokerPorts.size());
            brokers.add(new ManagedProcess(launcher.spec("broker-" + (i + 1), 512, "kafka.Kafka",
                    List.of(props.toString()), dir.resolve("logs").resolve("broker-" + (i + 1) + ".log"))));
        }
    }

    private static Path writeProperties(Path nodeDir, int nodeId, int brokerPort, int controllerPort, String voters,
                                        int nodes) {
        int replicas = Math.min(3, nodes);
        int minIsr = Math.min(2, replicas);
        Properties p = new Properties();
        p.put("process.roles", "broker,controller");
        p.put("node.id", Integer.toString(nodeId));
        p.put("controller.quorum.voters", voters);
        p.put("listeners", "PLAINTEXT://" + HOST + ":" + brokerPort + ",CONTROLLER://" + HOST + ":" + controllerPort);
        p.put("advertised.listeners", "PLAINTEXT://" + HOST + ":" + brokerPort);
        p.put("controller.listener.names", "CONTROLLER");
        p.put("inter.broker.listener.name", "PLAINTEXT");
        p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        p.put("log.dirs", nodeDir.resolve("logs").toAbsolutePath().toString());
        p.put("default.replication.factor", Integer.toString(replicas));
        p.put("min.insync.replicas", Integer.toString(minIsr));
        p.put("offsets.topic.replication.factor", Integer.toString(replicas));
        p.put("offsets.topic.num.partitions", "5");
        p.put("transaction.state.log.replication.factor", Integer.toString(replicas));
        p.put("transaction.state.log.min.isr", Integer.toString(minIsr));
        p.put("share.coordinator.state.topic.replication.factor", Integer.toString(replicas));
        p.put("share.coordinator.state.topic.min.isr", Integer.toString(minIsr));
        p.put("unclean.leader.election.enable", "false");
        p.put("group.initial.rebalance.delay.ms", "0");
        p.put("group.consumer.heartbeat.interval.ms", "500");
        p.put("group.consumer.min.heartbeat.interval.ms", "500");
        p.put("group.consumer.session.timeout.ms", "10000");
        p.put("group.consumer.min.session.timeout.ms", "6000");
        try {
            Files.createDirectories(nodeDir);
            Path file = nodeDir.resolve("server.properties");
            try (var out = Files.newOutputStream(file)) {
                p.store(out, "dalle2 cluster harness broker " + nodeId);
            }
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Formats the nodes never formatted (all with one cluster id), starts them all and waits for the quorum. */
    public void start() {
        String clusterId = existingClusterId().orElse(Uuid.randomUuid().toString());
        for (ManagedProcess broker : brokers) {
            Path props = Path.of(broker.spec().command().get(broker.spec().command().size() - 1));
            if (!Files.isRegularFile(props.getParent().resolve("logs").resolve("meta.properties"))) {
                format(broker, props, clusterId);
            }
        }
        brokers.forEach(ManagedProcess::start);
        awaitBrokers(brokers.size(), 120);
    }

    private java.util.Optional<String> existingClusterId() {
        for (int i = 1; i <= brokers.size(); i++) {
            Path meta = dir.resolve("broker-" + i).resolve("logs").resolve("meta.properties");
            if (Files.isRegularFile(meta)) {
                Properties p = new Properties();
                try (var in = Files.newInputStream(meta)) {
                    p.load(in);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                return java.util.Optional.ofNullable(p.getProperty("cluster.id"));
            }
        }
        return java.util.Optional.empty();
    }

    private void format(ManagedProcess broker, Path props, String clusterId) {
        ProcessSpec spec = launcher.spec(broker.name() + "-format", 256, "kafka.tools.StorageTool",
                List.of("format", "-t", clusterId, "-c", props.toString()), broker.spec().logFile());
        ManagedProcess format = new ManagedProcess(spec);
        format.start();
        if (!format.awaitExit(120) || format.exitValue() != 0) {
            format.kill();
            throw new IllegalStateException("formatting " + broker.name() + " failed; see " + spec.logFile());
        }
    }

    public String bootstrap() {
        return brokerPorts.stream().map(p -> HOST + ":" + p).collect(Collectors.joining(","));
    }

    public int size() {
        return brokers.size();
    }

    public ManagedProcess broker(int nodeId) {
        return brokers.get(nodeId - 1);
    }

    /** Waits until {@code expected} brokers are registered and answer. */
    public void awaitBrokers(int expected, int seconds) {
        long deadline = System.currentTimeMillis() + seconds * 1000L;
        Exception last = null;
        try (Admin admin = KafkaClients.admin(bootstrap(), "cluster-harness-readiness")) {
            while (System.currentTimeMillis() < deadline) {
                try {
                    int nodes = admin.describeCluster().nodes().get(5, TimeUnit.SECONDS).size();
                    if (nodes >= expected) {
                        return;
                    }
                } catch (Exception e) {
                    last = e;
                }
                sleep(500);
            }
        }
        throw new IllegalStateException(expected + " brokers not up after " + seconds + " s", last);
    }

    /** The node leading the most partitions of {@code topic} (ties: the lowest id). */
    public int leaderOf(String topic) {
        Map<Integer, Integer> led = new HashMap<>();
        for (TopicPartitionInfo partition : describe(topic).partitions()) {
            if (partition.leader() != null) {
                led.merge(partition.leader().id(), 1, Integer::sum);
            }
        }
        return led.entrySet().stream().max(Map.Entry.<Integer, Integer>comparingByValue()
                .thenComparing(Map.Entry.comparingByKey(java.util.Comparator.reverseOrder())))
                .map(Map.Entry::getKey).orElseThrow(() -> new IllegalStateException(topic + " has no leader"));
    }

    /** Each partition's replica count and in-sync count, e.g. {@code "6 partitions, RF 3, ISR 3"}. */
    public String replication(String topic) {
        TopicDescription d = describe(topic);
        int rf = d.partitions().stream().mapToInt(p -> p.replicas().size()).min().orElse(0);
        int isr = d.partitions().stream().mapToInt(p -> p.isr().size()).min().orElse(0);
        return d.partitions().size() + " partitions, RF " + rf + ", min ISR seen " + isr;
    }

    private TopicDescription describe(String topic) {
        try (Admin admin = KafkaClients.admin(bootstrap(), "cluster-harness-describe")) {
            return admin.describeTopics(List.of(topic)).allTopicNames().get(20, TimeUnit.SECONDS).get(topic);
        } catch (Exception e) {
            throw new IllegalStateException("cannot describe " + topic + ": " + e.getMessage(), e);
        }
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    @Override
    public void close() {
        brokers.parallelStream().forEach(b -> b.stop(15));
    }
}
