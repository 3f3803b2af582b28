package dalle2.embedded;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle2.kafka.KafkaClients;
import dalle2.kafka.Topics;
import dalle2.storage.ObjectStore;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

@Timeout(90)
class EmbeddedServersTest {

    @RegisterExtension
    static final EmbeddedServersExtension servers = EmbeddedServersExtension.kafkaAndS3();

    @Test
    void theBrokerListensOnLoopbackAndARecordProducedWithAcksAllIsConsumedByAGroupMember() throws Exception {
        assertTrue(servers.bootstrap().startsWith("127.0.0.1:"), servers.bootstrap());
        try (Admin admin = KafkaClients.admin(servers.bootstrap(), "test")) {
            Topics.ensure(admin, Topics.specs(2, 2, 2), 10_000);
            assertTrue(admin.listTopics().names().get().containsAll(
                    List.of(Topics.REQUESTS, Topics.EMBEDDINGS, Topics.STATUS, Topics.DEAD_LETTERS)));
            String policy = admin.describeConfigs(List.of(new org.apache.kafka.common.config.ConfigResource(
                    org.apache.kafka.common.config.ConfigResource.Type.TOPIC, Topics.STATUS))).all().get()
                    .values().iterator().next().get("cleanup.policy").value();
            assertTrue(policy.contains("compact"), policy);
            Topics.ensure(admin, Topics.specs(2, 2, 2), 10_000); // idempotent
        }
        RecordMetadata sent;
        try (KafkaProducer<String, byte[]> producer = KafkaClients.producer(servers.bootstrap(), "test-producer")) {
            sent = producer.send(new ProducerRecord<>(Topics.REQUESTS, "job-1", "hello".getBytes(StandardCharsets.UTF_8)))
                    .get();
        }
        List<ConsumerRecord<String, byte[]>> got = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> consumer = KafkaClients.groupConsumer(servers.bootstrap(), "test-group", "c1")) {
            consumer.subscribe(List.of(Topics.REQUESTS));
            long deadline = System.currentTimeMillis() + 30_000;
            while (got.isEmpty() && System.currentTimeMillis() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(got::add);
            }
            consumer.commitSync();
        }
        assertEquals(1, got.size());
        assertEquals("job-1", got.get(0).key());
        assertEquals(sent.offset(), got.get(0).offset());
        assertEquals("hello", new String(got.get(0).value(), StandardCharsets.UTF_8));
    }

    @Test
    void theMinioClientPutsGetsListsAndPresignsAgainstS3Proxy() throws Exception {
        byte[] png = {(byte) 0x89, 'P', 'N', 'G', 13, 10, 26, 10, 1, 2, 3};
        try (ObjectStore store = new ObjectStore(servers.storage("images"))) {
            assertFalse(store.reachable(), "no bucket yet");
            store.ensureBucket();
            store.ensureBucket();
            assertTrue(store.reachable());
            store.putPng(ObjectStore.imageKey("job-9", 0), png);
            store.putPng(ObjectStore.imageKey("job-9", 1), png);
            try (InputStream in = store.get("job-9/0.png").orElseThrow()) {
                assertArrayEquals(png, in.readAllBytes());
            }
            assertTrue(store.get("job-9/7.png").isEmpty());
            assertEquals(png.length, store.stat("job-9/1.png").orElseThrow().size());
            assertEquals("image/png", store.stat("job-9/1.png").orElseThrow().contentType());
            assertTrue(store.stat("nope.png").isEmpty());
            assertEquals(List.of("job-9/0.png", "job-9/1.png"), store.list("job-9/"));

            String url = store.presignedGet("job-9/0.png", Duration.ofMinutes(5));
            HttpClient http = HttpClient.newHttpClient();
            HttpResponse<byte[]> ok = http.send(HttpRequest.newBuilder(URI.create(url)).build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            assertEquals(200, ok.statusCode());
            assertArrayEquals(png, ok.body());
            HttpResponse<byte[]> tampered = http.send(HttpRequest.newBuilder(URI.create(url.replace("0.png", "1.png")))
                    .build(), HttpResponse.BodyHandlers.ofByteArray());
            assertEquals(403, tampered.statusCode(), "S3Proxy checks the signature");
        }
        EmbeddedS3 s3 = servers.s3();
        try (ObjectStore wrongSecret = new ObjectStore(new ObjectStore.Config(s3.endpoint(), s3.accessKey(), "wrong",
                "images"))) {
            assertFalse(wrongSecret.reachable());
        }
    }
}
