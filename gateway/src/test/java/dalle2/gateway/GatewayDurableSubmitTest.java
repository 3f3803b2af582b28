package dalle2.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle2.embedded.EmbeddedServersExtension;
import dalle2.embedded.TopicRecords;
import dalle2.kafka.KafkaClients;
import dalle2.kafka.Topics;
import dalle2.messages.JobStatus;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.PoolOptions;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Submissions under concurrency, on a gateway whose HTTP servers run on several event loops and send to Kafka
 * from them: every 202 names a job whose request is on the requests topic, and every such job can be read at once
 * on this gateway and on another.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class GatewayDurableSubmitTest {

    private static final int SUBMITS = 400;
    private static final int CONNECTIONS = 64;

    @RegisterExtension
    static final EmbeddedServersExtension servers = EmbeddedServersExtension.kafkaAndS3();

    private static WebClient web;
    private static GatewayTestClient here;
    private static GatewayTestClient elsewhere;

    @BeforeAll
    static void start() throws Exception {
        servers.createTopics(3, 2, 3);
        Gateway gateway = servers.closeAfterAll(Gateway.start(GatewayConfig.of("127.0.0.1", 0, servers.bootstrap(),
                servers.storage("images"))));
        Gateway other = servers.closeAfterAll(Gateway.start(GatewayConfig.of("127.0.0.1", 0, servers.bootstrap(),
                servers.storage("images"))));
        Vertx vertx = Vertx.vertx();
        servers.closeAfterAll(() -> vertx.close().await());
        web = WebClient.create(vertx, new WebClientOptions().setDefaultHost("127.0.0.1")
                .setDefaultPort(gateway.port()), new PoolOptions().setHttp1MaxSize(CONNECTIONS));
        here = servers.closeAfterAll(new GatewayTestClient(gateway.port()));
        elsewhere = servers.closeAfterAll(new GatewayTestClient(other.port()));
    }

    @Test
    void concurrentSubmitsAreAll202DurableOnTheRequestsTopicAndReadableOnEveryGateway() {
        List<Future<HttpResponse<Buffer>>> sent = new ArrayList<>();
        for (int i = 0; i < SUBMITS; i++) {
            sent.add(web.post("/v1/generations").putHeader("Content-Type", "application/json")
                    .sendBuffer(Buffer.buffer("{\"prompt\":\"concurrent " + i + "\"}")));
        }
        Set<String> accepted = new HashSet<>();
        for (Future<HttpResponse<Buffer>> f : sent) {
            HttpResponse<Buffer> r = f.await();
            assertEquals(202, r.statusCode(), r.bodyAsString());
            accepted.add(r.bodyAsJsonObject().getString("id"));
        }
        assertEquals(SUBMITS, accepted.size(), "every submission is its own job");

        Set<String> onTopic = keysOn(Topics.REQUESTS);
        for (String id : accepted) {
            assertTrue(onTopic.contains(id), "job " + id + " was answered 202 but its request is not on the topic");
        }
        for (String id : accepted) {
            for (GatewayTestClient gateway : List.of(here, elsewhere)) {
                HttpResponse<Buffer> status = gateway.get("/v1/generations/" + id);
                assertEquals(200, status.statusCode(), status.bodyAsString());
                assertEquals("queued", status.bodyAsJsonObject().getString("state"));
            }
        }
    }

    @Test
    void aFreshSubmissionIsOneRecordItsRequestAndIsQueuedFromItWithItsParameters() {
        HttpResponse<Buffer> r = web.post("/v1/generations").putHeader("Content-Type", "application/json")
                .sendBuffer(Buffer.buffer("{\"prompt\":\"one record\",\"seed\":11,\"n\":2}")).await();
        assertEquals(202, r.statusCode(), r.bodyAsString());
        String id = r.bodyAsJsonObject().getString("id");
        assertTrue(TopicRecords.all(servers.bootstrap(), Topics.STATUS, id, JobStatus.class).isEmpty(),
                "no status record: the request alone makes the job queued");
        for (GatewayTestClient gateway : List.of(here, elsewhere)) {
            var status = gateway.get("/v1/generations/" + id).bodyAsJsonObject();
            assertEquals("queued", status.getString("state"));
            assertEquals(11L, status.getJsonObject("params").getLong("seed"));
            assertEquals(2, status.getJsonObject("params").getInteger("n"));
            assertTrue(status.getInteger("queue_position") >= 1);
        }
    }

    /** The record keys on every partition of {@code topic}, up to its end now. */
    private static Set<String> keysOn(String topic) {
        Set<String> keys = new HashSet<>();
        try (KafkaConsumer<String, byte[]> consumer = KafkaClients.readerConsumer(servers.bootstrap(), "test-keys")) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
                for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(200))) {
                    keys.add(record.key());
                }
            }
        }
        return keys;
    }
}
