package dalle2.gateway;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle2.embedded.EmbeddedServersExtension;
import dalle2.kafka.KafkaClients;
import dalle2.kafka.Topics;
import dalle2.messages.GenerationRequest;
import dalle2.messages.JobStatus;
import dalle2.messages.Messages;
import dalle2.storage.ObjectStore;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** A short retention: after it, neither the status nor the PNG (through the gateway or presigned) can be had. */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class GatewayRetentionTest {

    @RegisterExtension
    static final EmbeddedServersExtension servers = EmbeddedServersExtension.kafkaAndS3();

    private static final Duration RETENTION = Duration.ofSeconds(4);
    private static final Duration SWEEP = Duration.ofMillis(250);

    private static GatewayTestClient client;

    @BeforeAll
    static void start() throws Exception {
        GatewayPolicy policy = GatewayPolicy.of(AccessConfig.openMode())
                .withRetention(new RetentionConfig(RETENTION, SWEEP));
        Gateway gateway = servers.closeAfterAll(Gateway.start(GatewayConfig.of("127.0.0.1", 0, servers.bootstrap(),
                servers.storage("images"), policy)));
        client = servers.closeAfterAll(new GatewayTestClient(gateway.port()));
    }

    @Test
    void theStatusTopicIsCompactedAndDeletedAfterTheRetention() throws Exception {
        try (Admin admin = KafkaClients.admin(servers.bootstrap(), "retention-test")) {
            ConfigResource topic = new ConfigResource(ConfigResource.Type.TOPIC, Topics.STATUS);
            Config config = admin.describeConfigs(List.of(topic)).all().get(10, TimeUnit.SECONDS).get(topic);
            assertEquals("compact,delete", config.get(TopicConfig.CLEANUP_POLICY_CONFIG).value());
            assertEquals(Long.toString(RETENTION.toMillis()), config.get(TopicConfig.RETENTION_MS_CONFIG).value());
            assertEquals(Long.toString(RETENTION.toMillis()),
                    config.get(TopicConfig.DELETE_RETENTION_MS_CONFIG).value());
        }
    }

    @Test
    void afterTheRetentionNeitherTheStatusNorThePngCanBeFetched() throws Exception {
        String id = "retained-job";
        byte[] png = {(byte) 0x89, 'P', 'N', 'G', 7};
        try (ObjectStore store = new ObjectStore(servers.storage("images"));
             KafkaProducer<String, byte[]> producer = KafkaClients.producer(servers.bootstrap(), "t")) {
            store.putPng(ObjectStore.imageKey(id, 0), png);
            GenerationRequest request = GenerationRequest.of(id, "kept briefly", 1, 1L, 1, 1, 0.0, 1.0, 1.0,
                    Instant.now(), null);
            producer.send(new ProducerRecord<>(Topics.STATUS, id, Messages.encode(JobStatus.queued(request)
                    .succeeded(List.of(ObjectStore.imageKey(id, 0)), Instant.now())))).get(10, TimeUnit.SECONDS);

            JsonObject status = client.awaitState(id, "succeeded");
            String presigned = status.getJsonArray("images").getJsonObject(0).getString("presigned_url");
            assertArrayEquals(png, client.get("/v1/generations/" + id + "/images/0.png").bodyAsBuffer().getBytes());

            Thread.sleep(RETENTION.plus(Duration.ofSeconds(2)).toMillis());
            HttpResponse<Buffer> gone = client.get("/v1/generations/" + id);
            assertEquals(410, gone.statusCode(), gone.bodyAsString());
            assertEquals("expired", gone.bodyAsJsonObject().getJsonObject("error").getString("code"));
            assertEquals(410, client.get("/v1/generations/" + id + "/images/0.png").statusCode());
            assertTrue(store.stat(ObjectStore.imageKey(id, 0)).isEmpty(), "the sweeper deleted the PNG");
            int direct = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(presigned)).build(),
                    java.net.http.HttpResponse.BodyHandlers.discarding()).statusCode();
            assertEquals(404, direct, "the presigned URL finds nothing either");
        }
    }

    @Test
    void aJobThatHasNotFinishedDoesNotExpire() throws Exception {
        String id = client.web().post("/v1/generations").putHeader("Content-Type", "application/json")
                .sendBuffer(Buffer.buffer("{\"prompt\":\"still queued\"}")).await().bodyAsJsonObject().getString("id");
        Thread.sleep(RETENTION.plus(Duration.ofSeconds(1)).toMillis());
        assertEquals("queued", client.get("/v1/generations/" + id).bodyAsJsonObject().getString("state"));
    }
}
