package dalle2.ops;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import dalle2.json.Json;
import dalle2.kafka.KafkaClients;
import dalle2.pipeline.BatchStats;
import dalle2.pipeline.StageWorker;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;
import org.apache.kafka.clients.admin.Admin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP side of a worker process, for probes and scraping: {@code /healthz} (liveness), {@code /readyz}
 * (readiness) and {@code /metrics} (Prometheus text) over the {@link StageWorker}s it watches.
 *
 * <p>The JDK's own {@code com.sun.net.httpserver}, not Vert.x: a worker serves three tiny GET endpoints every
 * few seconds, and this needs no dependency, no event loop and no Netty in a process whose threads belong to the
 * model. Two daemon threads answer, so a slow readiness check (Kafka down: up to {@value #KAFKA_TIMEOUT_MS} ms)
 * never delays a liveness probe.
 *
 * <p>Start it before the models load and {@link #watch} each worker once it has started: until then
 * {@code /healthz} answers 200 "starting" (a long model load is no reason to restart the container) and
 * {@code /readyz} 503.
 */
public final class WorkerOpsServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(WorkerOpsServer.class);

    public static final String HEALTH_PATH = "/healthz";
    public static final String READY_PATH = "/readyz";
    public static final String METRICS_PATH = "/metrics";
    /** How long {@code /readyz} waits for the Kafka cluster to describe itself. */
    public static final int KAFKA_TIMEOUT_MS = 3_000;

    private static final String JSON = "application/json";

    private final HttpServer server;
    private final ExecutorService threads;
    private final Admin admin;
    private final String host;
    private final List<StageWorker<?, ?, ?, ?>> workers = new CopyOnWriteArrayList<>();
    private final long startMillis = ManagementFactory.getRuntimeMXBean().getStartTime();

    private WorkerOpsServer(HttpServer server, ExecutorService threads, Admin admin, String host) {
        this.server = server;
        this.threads = threads;
        this.admin = admin;
        this.host = host;
    }

    /**
     * Listens on {@code host:port} ({@code port} 0: any free port, see {@link #port()}).
     *
     * @param bootstrap the Kafka cluster whose reachability {@code /readyz} checks
     */
    public static WorkerOpsServer start(String host, int port, String bootstrap) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(host, port), 0);
        ExecutorService threads = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "worker-ops-http");
            t.setDaemon(true);
            return t;
        });
        Admin admin = KafkaClients.admin(bootstrap, KafkaClients.clientId("worker-ops"));
        WorkerOpsServer ops = new WorkerOpsServer(server, threads, admin, host);
        server.setExecutor(threads);
        server.createContext("/", ops.route());
        server.start();
        LOG.info("worker ops endpoints on {}", ops.url());
        return ops;
    }

    /** Adds a started worker to the checks and metrics. */
    public WorkerOpsServer watch(StageWorker<?, ?, ?, ?> worker) {
        workers.add(worker);
        return this;
    }

    /** The port listened on (the chosen one when started with 0). */
    public int port() {
        return server.getAddress().getPort();
    }

    /** {@code http://host:port}, with a loopback host for a wildcard bind. */
    public String url() {
        String shown = host.equals("0.0.0.0") || host.equals("::") ? "127.0.0.1" : host;
        return "http://" + (shown.contains(":") ? "[" + shown + "]" : shown) + ":" + port();
    }

    @Override
    public void close() {
        server.stop(0);
        threads.shutdownNow();
        admin.close(java.time.Duration.ofSeconds(2));
    }

    // ---- routing -----------------------------------------------------------------------------------------------

    private HttpHandler route() {
        return exchange -> {
            try (exchange) {
                try {
                    dispatch(exchange);
                } catch (RuntimeException e) {
                    LOG.warn("ops request {} failed", exchange.getRequestURI(), e);
                    respond(exchange, 500, JSON, Json.write(Map.of("error", String.valueOf(e.getMessage()))));
                }
            }
        };
    }

    private void dispatch(HttpExchange exchange) throws IOException {
        String method = exchange.getRequestMethod();
        if (!method.equals("GET") && !method.equals("HEAD")) {
            exchange.getResponseHeaders().add("Allow", "GET, HEAD");
            respond(exchange, 405, JSON, Json.write(Map.of("error", "method not allowed")));
            return;
        }
        switch (exchange.getRequestURI().getPath()) {
            case HEALTH_PATH -> health(exchange);
            case READY_PATH -> ready(exchange);
            case METRICS_PATH -> respond(exchange, 200, PrometheusText.CONTENT_TYPE, metrics());
            default -> respond(exchange, 404, JSON, Json.write(Map.of("error",
                    "not found; try " + HEALTH_PATH + ", " + READY_PATH + " or " + METRICS_PATH)));
        }
    }

    private static void respond(HttpExchange exchange, int status, String contentType, String body)
            throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", contentType);
        exchange.getResponseHeaders().set("Cache-Control", "no-store");
        boolean head = exchange.getRequestMethod().equals("HEAD");
        exchange.sendResponseHeaders(status, head ? -1 : bytes.length);
        if (!head) {
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        }
    }

    // ---- probes ------------------------------------------------------------------------------------------------

    /** Alive: every watched worker's poll and model threads run (a thread that died never comes back). */
    private void health(HttpExchange exchange) throws IOException {
        if (workers.isEmpty()) {
            respond(exchange, 200, JSON, Json.write(Map.of("status", "starting")));
            return;
        }
        Map<String, String> checks = new LinkedHashMap<>();
        for (StageWorker<?, ?, ?, ?> w : workers) {
            checks.put(w.workerId() + ".poll_thread", w.pollThreadAlive() ? "ok" : "stopped");
            checks.put(w.workerId() + ".model_thread", w.modelThreadAlive() ? "ok" : "stopped");
        }
        boolean ok = allOk(checks);
        respond(exchange, ok ? 200 : 503, JSON, body(ok ? "ok" : "unhealthy", checks, null));
    }

    /**
     * Ready: the workers have started (their status view caught up, so cancellations are known), their threads
     * run, and the Kafka cluster answers. The assigned partitions are reported, not required: a member beyond
     * the partition count is idle but healthy, and requiring partitions would hold a rolling update until an
     * older pod leaves.
     */
    private void ready(HttpExchange exchange) throws IOException {
        Map<String, String> checks = new LinkedHashMap<>();
        Map<String, Integer> partitions = new LinkedHashMap<>();
        if (workers.isEmpty()) {
            checks.put("workers", "starting");
        }
        for (StageWorker<?, ?, ?, ?> w : workers) {
            checks.put(w.workerId() + ".threads", w.pollThreadAlive() && w.modelThreadAlive() ? "ok" : "stopped");
            checks.put(w.workerId() + ".poll_loop", w.polling() ? "ok" : "restarting");
            checks.put(w.workerId() + ".status_view", w.statusView().healthy() ? "ok"
                    : w.statusView().isCaughtUp() ? "restarting" : "catching_up");
            checks.put(w.workerId() + ".reports", w.stalledReports() == 0 ? "ok"
                    : "retrying " + w.stalledReports() + " unwritten dead letters or failure statuses");
            partitions.put(w.workerId(), w.assignedPartitions());
        }
        checks.put("kafka", kafkaReachable() ? "ok" : "unreachable");
        boolean ok = allOk(checks);
        respond(exchange, ok ? 200 : 503, JSON, body(ok ? "ready" : "not_ready", checks, partitions));
    }

    private boolean kafkaReachable() {
        try {
            admin.describeCluster().nodes().get(KAFKA_TIMEOUT_MS, TimeUnit.MILLISECONDS);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (Exception e) {
            return false;
        }
    }

    /** {@code {status, checks, assigned_partitions?}}, in that order. */
    private static String body(String status, Map<String, String> checks, Map<String, Integer> partitions) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("status", status);
        body.put("checks", checks);
        if (partitions != null) {
            body.put("assigned_partitions", partitions);
        }
        return Json.write(body);
    }

    private static boolean allOk(Map<String, String> checks) {
        return checks.values().stream().allMatch("ok"::equals);
    }

    // ---- metrics -----------------------------------------------------------------------------------------------

    /** One worker's numbers at scrape time, labelled by pool (consumer group) and worker id. */
    private record Row(StageWorker<?, ?, ?, ?> worker, StageWorker.Stats stats, BatchStats.Snapshot batches) {
        static Row of(StageWorker<?, ?, ?, ?> worker) {
            return new Row(worker, worker.stats(), worker.batchStats().snapshot());
        }

        String[] labels(String... more) {
            String[] all = new String[4 + more.length];
            all[0] = "pool";
            all[1] = worker.group();
            all[2] = "worker";
            all[3] = worker.workerId();
            System.arraycopy(more, 0, all, 4, more.length);
            return all;
        }
    }

    /** The Prometheus text of every watched worker's counters, read now. */
    String metrics() {
        PrometheusText m = new PrometheusText();
        List<Row> rows = workers.stream().map(Row::of).toList();

        family(m, rows, "dalle2_worker_records_total", "counter", "input records polled (one record is one job)",
                r -> r.stats().records());
        m.family("dalle2_worker_jobs_total", "counter",
                "jobs finished by this worker, by outcome (skipped: cancelled or already handled)");
        for (Row r : rows) {
            m.sample("dalle2_worker_jobs_total", r.stats().jobsSucceeded(), r.labels("outcome", "succeeded"));
            m.sample("dalle2_worker_jobs_total", r.stats().jobsFailed(), r.labels("outcome", "failed"));
            m.sample("dalle2_worker_jobs_total", r.stats().jobsSkipped(), r.labels("outcome", "skipped"));
        }
        family(m, rows, "dalle2_worker_images_total", "counter", "images persisted (embeddings or PNGs)",
                r -> r.stats().images());
        family(m, rows, "dalle2_worker_batches_total", "counter", "model batches started",
                r -> r.stats().batches());
        family(m, rows, "dalle2_worker_dead_letters_total", "counter", "unreadable records sent to dead letters",
                r -> r.stats().deadLetters());
        family(m, rows, "dalle2_worker_retries_total", "counter",
                "storage or output writes tried again after a transient failure", r -> r.stats().retries());
        family(m, rows, "dalle2_worker_batches_stopped_total", "counter",
                "running batches stopped because every job in them was cancelled", r -> r.stats().batchesStopped());
        family(m, rows, "dalle2_worker_poll_loop_restarts_total", "counter",
                "times the poll loop failed and was restarted with a new consumer", r -> r.stats().pollLoopRestarts());
        family(m, rows, "dalle2_worker_report_retries_total", "counter",
                "dead letters and failure statuses tried again after Kafka refused them", r -> r.stats().reportRetries());
        family(m, rows, "dalle2_worker_stalled_reports", "gauge",
                "dead letters and failure statuses waiting to be tried again (their partitions cannot commit past them)",
                r -> r.worker().stalledReports());
        family(m, rows, "dalle2_worker_status_view_restarts_total", "counter",
                "times the worker's status view failed and was restarted", r -> r.worker().statusView().restarts());
        family(m, rows, "dalle2_worker_in_flight_images", "gauge", "images received and not yet finished",
                r -> r.worker().inFlightImages());
        family(m, rows, "dalle2_worker_assigned_partitions", "gauge", "input partitions this worker owns",
                r -> r.worker().assignedPartitions());

        m.family("dalle2_worker_batch_size", "histogram", "images per model call");
        for (Row r : rows) {
            BatchStats.Snapshot b = r.batches();
            for (int i = 0; i < b.bounds().length; i++) {
                m.sample("dalle2_worker_batch_size_bucket", b.cumulative()[i],
                        r.labels("le", Integer.toString(b.bounds()[i])));
            }
            m.sample("dalle2_worker_batch_size_bucket", b.calls(), r.labels("le", "+Inf"));
            m.sample("dalle2_worker_batch_size_sum", b.images(), r.labels());
            m.sample("dalle2_worker_batch_size_count", b.calls(), r.labels());
        }
        family(m, rows, "dalle2_worker_last_batch_size", "gauge", "images in the last finished model call",
                r -> r.batches().lastSize());
        family(m, rows, "dalle2_worker_model_seconds_total", "counter", "time spent in finished model calls",
                r -> r.batches().modelSeconds());
        family(m, rows, "dalle2_worker_model_busy_seconds", "gauge",
                "how long the model call running now has taken (0 when idle)", r -> r.batches().busySeconds());
        family(m, rows, "dalle2_worker_status_view_jobs", "gauge", "jobs in the worker's status view",
                r -> r.worker().statusView().size());

        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        m.family("jvm_memory_used_bytes", "gauge", "JVM memory in use");
        m.sample("jvm_memory_used_bytes", memory.getHeapMemoryUsage().getUsed(), "area", "heap");
        m.sample("jvm_memory_used_bytes", memory.getNonHeapMemoryUsage().getUsed(), "area", "nonheap");
        m.family("process_start_time_seconds", "gauge", "start time of the process since the Unix epoch");
        m.sample("process_start_time_seconds", startMillis / 1000.0);
        return m.toString();
    }

    private static void family(PrometheusText m, List<Row> rows, String name, String type, String help,
                               ToDoubleFunction<Row> value) {
        m.family(name, type, help);
        for (Row r : rows) {
            m.sample(name, value.applyAsDouble(r), r.labels());
        }
    }
}
