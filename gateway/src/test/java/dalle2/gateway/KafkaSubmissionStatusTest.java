package dalle2.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle2.embedded.EmbeddedServersExtension;
import dalle2.kafka.KafkaClients;
import dalle2.kafka.Topics;
import dalle2.messages.GenerationRequest;
import dalle2.messages.JobState;
import dalle2.messages.JobStatus;
import dalle2.messages.Messages;
import dalle2.pipeline.StatusView;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A job produced straight to the requests topic is visible over HTTP from the moment it is on the topic, before
 * any prior worker takes it (there are none here). One requests partition, so "a later record was read" proves
 * an earlier one was.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class KafkaSubmissionStatusTest {

    @RegisterExtension
    static final EmbeddedServersExtension servers = EmbeddedServersExtension.kafkaAndS3();

    private static GatewayTestClient client;
    private static KafkaProducer<String, byte[]> producer;

    @BeforeAll
    static void start() throws Exception {
        servers.createTopics(1, 1, 2);
        producer = servers.closeAfterAll(KafkaClients.producer(servers.bootstrap(), "test"));
        Gateway gateway = servers.closeAfterAll(Gateway.start(GatewayConfig.of("127.0.0.1", 0, servers.bootstrap(),
                servers.storage("images"))));
        client = servers.closeAfterAll(new GatewayTestClient(gateway.port()));
    }

    @Test
    void aRequestOnTheTopicIsQueuedWithItsParametersSubmissionTimeAndQueuePositionBeforeAnyWorkerTakesIt()
            throws Exception {
        Instant earlier = Instant.parse("2001-01-01T00:00:00Z");
        String first = "kafka-first-" + UUID.randomUUID();
        String second = "kafka-second-" + UUID.randomUUID();
        produceRequest(first, first, earlier, "{\"job_id\":\"" + first + "\",\"prompt\":\"a red apple\",\"n\":3,"
                + "\"seed\":9,\"decoder_steps\":7}");
        // "2001-01-01T00:00:00.500Z" sorts before "2001-01-01T00:00:00Z" as text: the queue orders instants
        produceRequest(second, second, earlier.plusMillis(500), "{\"job_id\":\"" + second + "\",\"prompt\":\"x\"}");

        JsonObject s = client.awaitState(first, "queued");
        assertEquals(3, s.getJsonObject("params").getInteger("n"));
        assertEquals(9L, s.getJsonObject("params").getLong("seed"));
        assertEquals(7, s.getJsonObject("params").getInteger("decoder_steps"));
        assertEquals(earlier.toString(), s.getJsonObject("timestamps").getString("submitted_at"),
                "submitted when its record was written");
        assertEquals(1, s.getInteger("queue_position"));
        assertEquals(2, client.awaitState(second, "queued").getInteger("queue_position"));
    }

    @Test
    void aStatusFromTheStatusTopicAlwaysWinsOverTheSynthesizedQueuedOne() throws Exception {
        String taken = "kafka-taken-" + UUID.randomUUID();
        GenerationRequest request = request(taken);
        produceRequest(taken, taken, null, json(request));
        client.awaitState(taken, "queued");
        JobStatus queued = JobStatus.queued(request);
        produce(Topics.STATUS, taken, Messages.encode(queued.with(JobState.PRIOR,
                queued.timestamps().withPriorStarted(Instant.now()), new JobStatus.Progress("prior", 0, 2))));
        JsonObject prior = client.awaitState(taken, "prior");
        assertNull(prior.getValue("queue_position"));

        // a request read after its job's status (a redelivery, or a view catching up) does not bring "queued" back
        String done = "kafka-done-" + UUID.randomUUID();
        GenerationRequest doneRequest = request(done);
        produce(Topics.STATUS, done, Messages.encode(JobStatus.queued(doneRequest)
                .succeeded(List.of(done + "/0.png"), Instant.now())));
        client.awaitState(done, "succeeded");
        produceRequest(done, done, null, json(doneRequest));
        String marker = "kafka-marker-" + UUID.randomUUID();
        produceRequest(marker, marker, null, json(request(marker)));
        client.awaitState(marker, "queued");
        assertEquals("succeeded", client.get("/v1/generations/" + done).bodyAsJsonObject().getString("state"));
    }

    @Test
    void aQueuedKafkaSubmissionCanBeCancelled() throws Exception {
        String id = "kafka-cancel-" + UUID.randomUUID();
        produceRequest(id, id, null, json(request(id)));
        client.awaitState(id, "queued");
        assertEquals(202, client.delete("/v1/generations/" + id).statusCode());
        client.awaitState(id, "cancelled");
    }

    @Test
    void aRequestWhoseKeyIsNotItsJobIdIsNeverShownAsQueued() throws Exception {
        String misKeyed = "kafka-miskeyed-" + UUID.randomUUID();
        produceRequest("other-key", misKeyed, null, json(request(misKeyed)));
        String keyless = "kafka-keyless-" + UUID.randomUUID();
        produceRequest(null, keyless, null, json(request(keyless)));
        String marker = "kafka-marker-" + UUID.randomUUID();
        produceRequest(marker, marker, null, json(request(marker)));
        client.awaitState(marker, "queued");
        assertEquals(404, client.get("/v1/generations/" + misKeyed).statusCode(),
                "the prior pool fails it (invalid_key)");
        assertEquals(404, client.get("/v1/generations/" + keyless).statusCode());
        assertEquals(404, client.get("/v1/generations/other-key").statusCode());
    }

    @Test
    void aViewFollowsRequestsOnlyFromThePriorPoolsCommittedOffsetOn() throws Exception {
        String done = "kafka-committed-" + UUID.randomUUID();
        String waiting = "kafka-waiting-" + UUID.randomUUID();
        RecordMetadata doneAt = produceRequest(done, done, null, json(request(done)));
        produceRequest(waiting, waiting, null, json(request(waiting)));
        // what a prior worker does once it has written the job's output: commit past its request
        try (Admin admin = KafkaClients.admin(servers.bootstrap(), "test-admin")) {
            admin.alterConsumerGroupOffsets(Topics.PRIOR_GROUP, Map.of(new TopicPartition(Topics.REQUESTS,
                    doneAt.partition()), new OffsetAndMetadata(doneAt.offset() + 1))).all().get(10, TimeUnit.SECONDS);
        }
        try (StatusView fresh = StatusView.withQueuedRequests(servers.bootstrap(), 1000, "test").start()) {
            assertTrue(fresh.awaitCaughtUp(Duration.ofSeconds(30)));
            assertTrue(fresh.get(done).isEmpty(), "a request the prior pool is done with is not read");
            assertEquals(JobState.QUEUED, fresh.get(waiting).orElseThrow().state());
            assertEquals(1, fresh.queuePosition(waiting).orElseThrow(), "only uncommitted requests queue");
        }
    }

    // ---- helpers -----------------------------------------------------------------------------------------------

    private static GenerationRequest request(String jobId) {
        return GenerationRequest.of(jobId, "a photo of a cat", 1, 1L, 2, 2, 0.0, 1.0, 1.0,
                Instant.now().truncatedTo(ChronoUnit.MILLIS), null);
    }

    private static String json(GenerationRequest request) {
        return new String(Messages.encode(request), StandardCharsets.UTF_8);
    }

    private static RecordMetadata produceRequest(String key, String jobId, Instant timestamp, String json)
            throws Exception {
        assertTrue(json.contains(jobId));
        return producer.send(new ProducerRecord<>(Topics.REQUESTS, null,
                timestamp == null ? null : timestamp.toEpochMilli(), key, json.getBytes(StandardCharsets.UTF_8)))
                .get(30, TimeUnit.SECONDS);
    }

    private static void produce(String topic, String key, byte[] value) throws Exception {
        producer.send(new ProducerRecord<>(topic, key, value)).get(30, TimeUnit.SECONDS);
    }
}
