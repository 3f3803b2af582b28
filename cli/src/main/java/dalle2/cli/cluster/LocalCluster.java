package dalle2.cli.cluster;

import dalle2.kafka.KafkaClients;
import dalle2.kafka.Topics;
import dalle2.pipeline.FaultPoint;
import dalle2.storage.ObjectStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Path;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.admin.Admin;

/**
 * The whole service as separate OS processes on 127.0.0.1: Kafka brokers, an S3 server, gateways, prior and
 * decoder workers, each launched the way {@code ./dalle2} launches it, each killable and restartable.
 */
public final class LocalCluster implements AutoCloseable {

    public static final String S3_KEY = "cluster";
    public static final String S3_SECRET = "cluster-harness-secret";
    public static final String BUCKET = "dalle2-images";

    private final ClusterSettings settings;
    private final JvmLauncher launcher = new JvmLauncher();
    private final KafkaBrokers kafka;
    private final ManagedProcess s3;
    private final int s3Port;
    private final List<ManagedProcess> gateways = new ArrayList<>();
    private final List<Integer> gatewayPorts = new ArrayList<>();
    private final List<ManagedProcess> priors = new ArrayList<>();
    private final List<ManagedProcess> decoders = new ArrayList<>();
    private final List<Integer> workerOpsPorts = new ArrayList<>();
    private final java.util.Iterator<Integer> ports;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private final String apiKey;

    /** The key every client of this cluster's gateways sends ({@code Authorization: Bearer}). */
    public String apiKey() {
        return apiKey;
    }

    private static String randomKey() {
        byte[] b = new byte[24];
        new java.security.SecureRandom().nextBytes(b);
        return java.util.HexFormat.of().formatHex(b);
    }

    public LocalCluster(ClusterSettings settings) {
        this.settings = settings;
        // all at once: ports probed one by one could come back twice
        java.util.Iterator<Integer> ports = freePorts(2 * settings.brokers() + 1 + settings.gateways()
                + settings.priorWorkers() + settings.decoderWorkers()).iterator();
        this.ports = ports;
        List<Integer> brokerPorts = new ArrayList<>();
        List<Integer> controllerPorts = new ArrayList<>();
        for (int i = 0; i < settings.brokers(); i++) {
            brokerPorts.add(ports.next());
            controllerPorts.add(ports.next());
        }
        this.kafka = new KafkaBrokers(launcher, settings.dir().resolve("kafka"), brokerPorts, controllerPorts);
        this.s3Port = ports.next();
        this.s3 = new ManagedProcess(launcher.spec("s3", 256, "dalle2.embedded.S3ServerMain",
                List.of(settings.dir().resolve("s3").toAbsolutePath().toString(), Integer.toString(s3Port), S3_KEY,
                        S3_SECRET), log("s3")));
        // the gateways run as a deployment would: behind an API key (stored hashed by them), never open
        this.apiKey = randomKey();
        Path keyFile = settings.dir().resolve("gateway-api-keys");
        try {
            java.nio.file.Files.createDirectories(settings.dir());
            java.nio.file.Files.writeString(keyFile, "harness:" + apiKey + "\n");
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("cannot write " + keyFile, e);
        }
        for (int i = 1; i <= settings.gateways(); i++) {
            int port = ports.next();
            gatewayPorts.add(port);
            gateways.add(role("gateway-" + i, 384, List.of("gateway", "--kafka", kafka.bootstrap(), "--s3", s3Url(),
                    "--s3-key", S3_KEY, "--s3-secret", S3_SECRET, "--bucket", BUCKET, "--host", "127.0.0.1",
                    "--port", Integer.toString(port), "--api-keys-file", keyFile.toAbsolutePath().toString(),
                    // one trusted client polls every job it submitted: well above the per-key default of 10/s
                    "--rate-limit", "5000", "--rate-burst", "5000")));
        }
        for (int i = 1; i <= settings.priorWorkers(); i++) {
            priors.add(worker("prior-" + i, List.of("prior-worker")));
        }
        for (int i = 1; i <= settings.decoderWorkers(); i++) {
            ManagedProcess decoder = worker("decoder-" + i, List.of("decoder-worker", "--s3", s3Url(), "--s3-key",
                    S3_KEY, "--s3-secret", S3_SECRET, "--bucket", BUCKET, "--device", "cpu", "--max-batch",
                    Integer.toString(settings.decoderMaxBatch())));
            if (i == 1 && settings.decoderFault() != null) {
                decoder = new ManagedProcess(decoder.spec().withSystemProperty(FaultPoint.PROPERTY,
                        settings.decoderFault()));
            }
            decoders.add(decoder);
        }
    }

    private ManagedProcess worker(String name, List<String> roleArgs) {
        int opsPort = ports.next();
        workerOpsPorts.add(opsPort);
        List<String> args = new ArrayList<>(roleArgs);
        args.addAll(List.of("--kafka", kafka.bootstrap(), "--models", settings.models().toAbsolutePath().toString(),
                "--worker-id", name, "--http-host", "127.0.0.1", "--http-port", Integer.toString(opsPort)));
        return role(name, 1024, args);
    }

    private ManagedProcess role(String name, int heapMb, List<String> args) {
        return new ManagedProcess(launcher.spec(name, heapMb, "dalle2.cli.Main", args, log(name)));
    }

    private java.nio.file.Path log(String name) {
        return settings.dir().resolve("logs").resolve(name + ".log");
    }

    /** Starts every process and waits until each answers ready. */
    public void start() {
        kafka.start();
        createTopics();
        s3.start();
        awaitS3(60);
        gateways.forEach(ManagedProcess::start);
        priors.forEach(ManagedProcess::start);
        decoders.forEach(ManagedProcess::start);
        for (int port : gatewayPorts) {
            awaitOk("http://127.0.0.1:" + port + "/readyz", 180);
        }
        for (int port : workerOpsPorts) {
            awaitOk("http://127.0.0.1:" + port + "/readyz", 240);
        }
    }

    /** The topics up front, so that every one gets the brokers' replication factor before a worker races. */
    private void createTopics() {
        try (Admin admin = KafkaClients.admin(kafka.bootstrap(), "cluster-harness-topics")) {
            Topics.ensure(admin, Topics.defaultSpecs(), 60_000);
        }
    }

    public String s3Url() {
        return "http://127.0.0.1:" + s3Port;
    }

    public ObjectStore.Config storage() {
        return new ObjectStore.Config(s3Url(), S3_KEY, S3_SECRET, BUCKET);
    }

    public KafkaBrokers kafka() {
        return kafka;
    }

    public ManagedProcess s3() {
        return s3;
    }

    public List<ManagedProcess> gateways() {
        return gateways;
    }

    public List<String> gatewayUrls() {
        return gatewayPorts.stream().map(p -> "http://127.0.0.1:" + p).toList();
    }

    public List<ManagedProcess> priorWorkers() {
        return priors;
    }

    public List<ManagedProcess> decoderWorkers() {
        return decoders;
    }

    /** {@code http://127.0.0.1:<port>} of a worker's /healthz, /readyz and /metrics. */
    public String opsUrl(ManagedProcess worker) {
        int index = priors.indexOf(worker);
        if (index < 0) {
            index = priors.size() + decoders.indexOf(worker);
        }
        return "http://127.0.0.1:" + workerOpsPorts.get(index);
    }

    /** A worker started again without any fault hook. */
    public void restartPlain(ManagedProcess worker) {
        List<String> command = new ArrayList<>(worker.spec().command());
        command.removeIf(arg -> arg.startsWith("-D" + FaultPoint.PROPERTY + "="));
        worker.restartWith(new ProcessSpec(worker.name(), command, worker.spec().environment(),
                worker.spec().logFile()));
    }

    public void awaitReady(ManagedProcess worker, int seconds) {
        awaitOk(opsUrl(worker) + "/readyz", seconds);
    }

    public void awaitS3(int seconds) {
        long deadline = System.currentTimeMillis() + seconds * 1000L;
        try (ObjectStore store = new ObjectStore(storage())) {
            while (System.currentTimeMillis() < deadline) {
                try {
                    store.ensureBucket();
                    return;
                } catch (RuntimeException e) {
                    KafkaBrokers.sleep(300);
                }
            }
        }
        throw new IllegalStateException("S3 server not up after " + seconds + " s");
    }

    /** Seconds the running model call of a worker has taken so far (0 when idle, -1 when unknown). */
    public double modelBusySeconds(ManagedProcess worker) {
        try {
            String metrics = http.send(HttpRequest.newBuilder(URI.create(opsUrl(worker) + "/metrics"))
                    .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString()).body();
            for (String line : metrics.split("\n")) {
                if (line.startsWith("dalle2_worker_model_busy_seconds")) {
                    return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return -1;
    }

    private void awaitOk(String url, int seconds) {
        long deadline = System.currentTimeMillis() + seconds * 1000L;
        while (System.currentTimeMillis() < deadline) {
            try {
                int code = http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(3)).build(),
                        HttpResponse.BodyHandlers.discarding()).statusCode();
                if (code == 200) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted", e);
            }
            KafkaBrokers.sleep(500);
        }
        throw new IllegalStateException(url + " not ready after " + seconds + " s; logs in " + settings.dir());
    }

    static List<Integer> freePorts(int count) {
        List<ServerSocket> sockets = new ArrayList<>();
        try {
            List<Integer> ports = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"));
                sockets.add(socket);
                ports.add(socket.getLocalPort());
            }
            return ports;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            sockets.forEach(s -> {
                try {
                    s.close();
                } catch (IOException ignored) {
                    // released anyway
                }
            });
        }
    }

    /** Workers first (they drain), then gateways, storage and the brokers; anything left is killed. */
    @Override
    public void close() {
        List<ManagedProcess> roles = new ArrayList<>(decoders);
        roles.addAll(priors);
        roles.addAll(gateways);
        roles.parallelStream().forEach(p -> p.stop(20));
        s3.stop(10);
        kafka.close();
    }
}
