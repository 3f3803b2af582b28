package dalle2.prior;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle2.embedded.EmbeddedServersExtension;
import dalle2.embedded.TopicRecords;
import dalle2.inference.DallE2;
import dalle2.inference.TinyModels;
import dalle2.kafka.KafkaClients;
import dalle2.kafka.Topics;
import dalle2.messages.DeadLetter;
import dalle2.messages.GenerationRequest;
import dalle2.messages.ImageEmbeddings;
import dalle2.messages.JobState;
import dalle2.messages.JobStatus;
import dalle2.messages.Messages;
import dalle2.pipeline.StageWorker;
import dalle2.pipeline.StatusView;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A prior worker with the tiny real CLIP + prior on a real in-JVM broker, fed straight over Kafka the way a client
 * without the gateway submits: what it does with records keyed otherwise than their job id, and the submission
 * time of a request that names none.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class PriorWorkerTest {

    @RegisterExtension
    static final EmbeddedServersExtension servers = EmbeddedServersExtension.kafkaOnly();

    private KafkaProducer<String, byte[]> producer;
    private StatusView view;
    private PriorWorker worker;

    @BeforeAll
    void start() throws Exception {
        servers.createTopics(2, 2, 2);
        producer = servers.closeAfterAll(KafkaClients.producer(servers.bootstrap(), "test"));
        view = servers.closeAfterAll(new StatusView(servers.bootstrap(), 10_000, "test").start());
        assertTrue(view.awaitCaughtUp(Duration.ofSeconds(30)));
        worker = servers.closeAfterAll(new PriorWorker(
                StageWorker.Config.defaults(servers.bootstrap(), "prior-test", 4),
                DallE2.provider(TinyModels.write(Files.createTempDirectory("prior-worker-test"))).embeddingModel()));
        worker.start(Duration.ofSeconds(30));
    }

    @Test
    void aRequestKeyedByAnotherIdIsDeadLetteredAndItsJobFailsWithItsParametersAndNoEmbeddings() throws Exception {
        String jobId = "mine-" + UUID.randomUUID();
        long imagesBefore = worker.stats().images();
        produce(Topics.REQUESTS, "typo-" + jobId, null, "{\"job_id\":\"" + jobId + "\",\"prompt\":\"a red apple\","
                + "\"n\":2,\"seed\":5,\"prior_steps\":2}");

        DeadLetter letter = TopicRecords.awaitDeadLetter(servers.bootstrap(), jobId, java.time.Duration.ofSeconds(60));
        assertEquals(Topics.REQUESTS, letter.topic());
        assertEquals("typo-" + jobId, letter.key());
        assertEquals("record key 'typo-" + jobId + "' differs from its job_id '" + jobId
                + "' (key the record by its job_id)", letter.reason());
        JobStatus failed = awaitState(jobId, JobState.FAILED);
        assertEquals("invalid_key", failed.error().code());
        assertEquals(letter.reason(), failed.error().message(), "a poll explains it");
        assertEquals(2, failed.request().n());
        assertEquals(5L, failed.request().seed());
        assertEquals(imagesBefore, worker.stats().images(), "the mis-keyed job was not run");
    }

    @Test
    void aStrayMisKeyedRequestNamingAJobThatAlreadyRanIsDeadLetteredButLeavesThatJobAlone() throws Exception {
        String jobId = "finished-" + UUID.randomUUID();
        GenerationRequest request = GenerationRequest.of(jobId, "a red apple", 1, 1L, 2, 2, 0.0, 1.0, 1.0,
                Instant.now(), null);
        produce(Topics.STATUS, jobId, null, new String(Messages.encode(JobStatus.queued(request)
                .succeeded(List.of(jobId + "/0.png"), Instant.now())), StandardCharsets.UTF_8));
        await("the worker knows the job succeeded",
                () -> worker.statusView().get(jobId).map(s -> s.state() == JobState.SUCCEEDED).orElse(false));

        produce(Topics.REQUESTS, "someone-else", null, new String(Messages.encode(request), StandardCharsets.UTF_8));
        assertTrue(TopicRecords.awaitDeadLetter(servers.bootstrap(), jobId, java.time.Duration.ofSeconds(60)).reason().contains("someone-else"));
        Thread.sleep(500);
        List<JobState> states = new ArrayList<>();
        for (JobStatus s : allRecords(Topics.STATUS, jobId, JobStatus.class)) {
            states.add(s.state());
        }
        assertEquals(List.of(JobState.SUCCEEDED), states, "no failed status was written over the finished job");
    }

    @Test
    void aRequestWithoutSubmittedAtIsDatedByItsRecordAndProcessed() throws Exception {
        String jobId = "undated-" + UUID.randomUUID();
        Instant recordTime = Instant.now().minus(1, ChronoUnit.HOURS).truncatedTo(ChronoUnit.MILLIS);
        produce(Topics.REQUESTS, jobId, recordTime, "{\"job_id\":\"" + jobId + "\",\"prompt\":\"dog face\","
                + "\"prior_steps\":2}");
        ImageEmbeddings out = awaitRecord(Topics.EMBEDDINGS, jobId, ImageEmbeddings.class);
        assertEquals(recordTime.toString(), out.request().submittedAt());
        JobStatus status = view.get(jobId).orElseThrow();
        assertEquals(recordTime.toString(), status.timestamps().submittedAt(),
                "the status and every gateway's view agree on when it was submitted");
    }

    @Test
    void aDeadLetterKafkaRefusesIsRetriedUntilWrittenHoldingItsPartitionsCommitsMeanwhile() throws Exception {
        // a dead-letter topic that takes no record over 64 bytes refuses every letter the worker writes
        setDeadLetterTopicConfig("max.message.bytes", "64");
        String jobId = "stalled-" + UUID.randomUUID();
        long retriesBefore = worker.stats().reportRetries();
        try {
            var poison = producer.send(new ProducerRecord<>(Topics.REQUESTS, jobId, ("{\"job_id\":\"" + jobId
                    + "\",\"prompt\":\"x\",\"n\":99}").getBytes(StandardCharsets.UTF_8))).get(30, TimeUnit.SECONDS);
            await("the worker retries the dead letter", () -> worker.stalledReports() == 1
                    && worker.stats().reportRetries() > retriesBefore);
            assertTrue(worker.polling(), "the poll loop carries on meanwhile");
            try (var admin = KafkaClients.admin(servers.bootstrap(), "test-offsets")) {
                var committed = admin.listConsumerGroupOffsets(Topics.PRIOR_GROUP).partitionsToOffsetAndMetadata()
                        .get(30, TimeUnit.SECONDS).get(new org.apache.kafka.common.TopicPartition(Topics.REQUESTS,
                                poison.partition()));
                assertTrue(committed == null || committed.offset() <= poison.offset(),
                        "the unwritten letter's record is not committed: " + committed);
            }
        } finally {
            setDeadLetterTopicConfig("max.message.bytes", "1048588");
        }
        DeadLetter letter = TopicRecords.awaitDeadLetter(servers.bootstrap(), jobId, java.time.Duration.ofSeconds(60));
        assertTrue(letter.reason().contains("n must be in 1..8"), letter.reason());
        await("no report is left waiting", () -> worker.stalledReports() == 0);
        assertEquals(JobState.FAILED, awaitState(jobId, JobState.FAILED).state());
    }

    private void setDeadLetterTopicConfig(String name, String value) throws Exception {
        try (var admin = KafkaClients.admin(servers.bootstrap(), "test-admin")) {
            var topic = new org.apache.kafka.common.config.ConfigResource(
                    org.apache.kafka.common.config.ConfigResource.Type.TOPIC, Topics.DEAD_LETTERS);
            admin.incrementalAlterConfigs(java.util.Map.of(topic, List.of(new org.apache.kafka.clients.admin.AlterConfigOp(
                    new org.apache.kafka.clients.admin.ConfigEntry(name, value),
                    org.apache.kafka.clients.admin.AlterConfigOp.OpType.SET)))).all().get(30, TimeUnit.SECONDS);
            // the broker applies a topic config asynchronously: wait until it reports the new value
            await(name + " is " + value + " on the broker", () -> {
                try {
                    return value.equals(admin.describeConfigs(List.of(topic)).all().get(10, TimeUnit.SECONDS)
                            .get(topic).get(name).value());
                } catch (Exception e) {
                    return false;
                }
            });
            Thread.sleep(500);
        }
    }

    // ---- helpers -----------------------------------------------------------------------------------------------

    private void produce(String topic, String key, Instant timestamp, String json) throws Exception {
        producer.send(new ProducerRecord<>(topic, null, timestamp == null ? null : timestamp.toEpochMilli(), key,
                json.getBytes(StandardCharsets.UTF_8))).get(30, TimeUnit.SECONDS);
    }

    private JobStatus awaitState(String jobId, JobState state) throws InterruptedException {
        await(jobId + " becomes " + state.wire(), () -> view.get(jobId).map(s -> s.state() == state).orElse(false));
        return view.get(jobId).orElseThrow();
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting until " + what);
            }
            Thread.sleep(10);
        }
    }

    private <T> T awaitRecord(String topic, String key, Class<T> type) {
        long deadline = System.currentTimeMillis() + 60_000;
        while (System.currentTimeMillis() < deadline) {
            List<T> found = allRecords(topic, key, type);
            if (!found.isEmpty()) {
                return found.get(0);
            }
        }
        throw new AssertionError("no record keyed " + key + " on " + topic);
    }

    /** Every record keyed {@code key} on the topic now, oldest first per partition. */
    private <T> List<T> allRecords(String topic, String key, Class<T> type) {
        return TopicRecords.all(servers.bootstrap(), topic, key, type);
    }
}
