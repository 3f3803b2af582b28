package dalle2.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import dalle2.embedded.EmbeddedServersExtension;
import dalle2.embedded.TopicRecords;
import dalle2.kafka.KafkaClients;
import dalle2.kafka.Topics;
import dalle2.messages.GenerationRequest;
import dalle2.messages.JobStatus;
import dalle2.messages.Messages;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Webhooks on a receiver of the test's own (the JDK's HTTP server on loopback): the allow-list, the signed call
 * of a job's final state, retries of a failing receiver with backoff, bounded.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class GatewayWebhooksTest {

    @RegisterExtension
    static final EmbeddedServersExtension servers = EmbeddedServersExtension.kafkaAndS3();

    private static final byte[] SECRET = "webhook-secret-0123456789".getBytes(StandardCharsets.UTF_8);
    private record Call(String path, Map<String, List<String>> headers, byte[] body, long atNanos) {
    }

    private static final List<Call> calls = new CopyOnWriteArrayList<>();
    private static final AtomicInteger failuresLeft = new AtomicInteger();
    private static HttpServer receiver;
    private static String hooks;
    private static GatewayTestClient client;
    private static GatewayTestClient noHooks;

    @BeforeAll
    static void start() throws Exception {
        receiver = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        receiver.createContext("/", exchange -> {
            calls.add(new Call(exchange.getRequestURI().getPath(), Map.copyOf(exchange.getRequestHeaders()),
                    exchange.getRequestBody().readAllBytes(), System.nanoTime()));
            int status = exchange.getRequestURI().getPath().endsWith("/gone") ? 410
                    : failuresLeft.getAndDecrement() > 0 ? 503 : 204;
            exchange.sendResponseHeaders(status, -1);
            exchange.close();
        });
        receiver.start();
        hooks = "http://127.0.0.1:" + receiver.getAddress().getPort() + "/hooks/";
        WebhookConfig webhooks = new WebhookConfig(List.of(hooks), SECRET, 4, Duration.ofMillis(200),
                Duration.ofMillis(400), Duration.ofSeconds(5));
        Gateway gateway = servers.closeAfterAll(Gateway.start(GatewayConfig.of("127.0.0.1", 0, servers.bootstrap(),
                servers.storage("images")).withWebhooks(webhooks)));
        client = servers.closeAfterAll(new GatewayTestClient(gateway.port()));
        Gateway plain = servers.closeAfterAll(Gateway.start(GatewayConfig.of("127.0.0.1", 0, servers.bootstrap(),
                servers.storage("images"))));
        noHooks = servers.closeAfterAll(new GatewayTestClient(plain.port()));
    }

    @AfterAll
    static void stop() {
        receiver.stop(0);
    }

    private static HttpResponse<Buffer> submit(GatewayTestClient c, String webhook) {
        return c.web().post("/v1/generations").putHeader("Content-Type", "application/json")
                .sendBuffer(Buffer.buffer("{\"prompt\":\"a hook\",\"seed\":4,\"webhook\":\"" + webhook + "\"}"))
                .await();
    }

    /** Plays the decoder's part: the job's succeeded status on the topic. */
    private static void succeed(String id) throws Exception {
        GenerationRequest request = TopicRecords.awaitFirst(servers.bootstrap(), Topics.REQUESTS, id,
                GenerationRequest.class, Duration.ofSeconds(10));
        try (KafkaProducer<String, byte[]> producer = KafkaClients.producer(servers.bootstrap(), "hooks-test")) {
            producer.send(new ProducerRecord<>(Topics.STATUS, id, Messages.encode(JobStatus.queued(request)
                    .withModel("decoder", "d-1").succeeded(List.of(id + "/0.png"), Instant.now())))).get();
        }
    }

    private static List<Call> callsTo(String path, int atLeast) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            List<Call> to = calls.stream().filter(c -> c.path().equals(path)).toList();
            if (to.size() >= atLeast) {
                return to;
            }
            Thread.sleep(20);
        }
        throw new AssertionError("fewer than " + atLeast + " calls to " + path + ": " + calls.size() + " calls in all");
    }

    private static String header(Call c, String name) {
        return c.headers().entrySet().stream().filter(e -> e.getKey().equalsIgnoreCase(name)).findFirst()
                .map(e -> e.getValue().get(0)).orElse(null);
    }

    @Test
    void aJobsFinalStateIsPostedSignedAndAFailingReceiverIsRetriedWithBackoffUntilItAnswers() throws Exception {
        failuresLeft.set(2);
        HttpResponse<Buffer> r = submit(client, hooks + "job-done");
        assertEquals(202, r.statusCode(), r.bodyAsString());
        String id = r.bodyAsJsonObject().getString("id");
        succeed(id);

        List<Call> got = callsTo("/hooks/job-done", 3);
        Thread.sleep(1_000);
        assertEquals(3, callsTo("/hooks/job-done", 3).size(), "two 503s, then a 204: three tries, no more");
        assertTrue(got.get(2).atNanos() - got.get(1).atNanos() > got.get(1).atNanos() - got.get(0).atNanos() - 50_000_000L,
                "the second wait is not shorter than the first (doubling)");
        Call last = got.get(2);
        JsonObject body = new JsonObject(new String(last.body(), StandardCharsets.UTF_8));
        assertEquals(id, body.getString("id"));
        assertEquals("succeeded", body.getString("state"));
        assertEquals("/v1/generations/" + id + "/images/0.png",
                body.getJsonArray("images").getJsonObject(0).getString("url"));
        assertEquals(4L, body.getJsonObject("params").getLong("seed"));
        long timestamp = Long.parseLong(header(last, WebhookNotifier.TIMESTAMP_HEADER));
        assertTrue(Math.abs(Instant.now().getEpochSecond() - timestamp) < 60);
        assertEquals(WebhookNotifier.signature(SECRET, timestamp, last.body()),
                header(last, WebhookNotifier.SIGNATURE_HEADER), "HMAC-SHA256 of '<timestamp>.<body>'");
        assertTrue(header(last, WebhookNotifier.SIGNATURE_HEADER).matches("sha256=[0-9a-f]{64}"));
        assertEquals(id + ":succeeded", header(last, WebhookNotifier.DELIVERY_HEADER));
    }

    @Test
    void aReceiverThatRefusesWith4xxIsNotRetriedAndEveryTryIsBounded() throws Exception {
        failuresLeft.set(0);
        String id = submit(client, hooks + "gone").bodyAsJsonObject().getString("id");
        succeed(id);
        callsTo("/hooks/gone", 1);
        Thread.sleep(1_500);
        assertEquals(1, callsTo("/hooks/gone", 1).size(), "410 is final");

        failuresLeft.set(100);
        String stubborn = submit(client, hooks + "down").bodyAsJsonObject().getString("id");
        succeed(stubborn);
        callsTo("/hooks/down", 4);
        Thread.sleep(1_500);
        assertEquals(4, callsTo("/hooks/down", 4).size(), "at most the configured four tries");
        failuresLeft.set(0);
    }

    @Test
    void aWebhookOutsideTheAllowListOrWithoutWebhooksConfiguredIs400NamingTheField() {
        for (String url : List.of("http://127.0.0.1:1/elsewhere", "http://169.254.169.254/latest/meta-data/",
                hooks.replace("127.0.0.1", "localhost") + "x", hooks + "../admin", "ftp://example.com/hooks/")) {
            HttpResponse<Buffer> r = submit(client, url);
            assertEquals(400, r.statusCode(), url + ": " + r.bodyAsString());
            assertEquals("webhook", r.bodyAsJsonObject().getJsonObject("error").getString("field"), url);
        }
        HttpResponse<Buffer> off = submit(noHooks, hooks + "x");
        assertEquals(400, off.statusCode());
        assertTrue(off.bodyAsJsonObject().getJsonObject("error").getString("message").contains("not enabled"));
    }
}
