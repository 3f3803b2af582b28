package dalle2.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dalle2.embedded.EmbeddedServersExtension;
import dalle2.json.Json;
import dalle2.kafka.DeadLetters;
import dalle2.kafka.KafkaClients;
import dalle2.kafka.Topics;
import dalle2.messages.DeadLetter;
import dalle2.messages.Float32;
import dalle2.messages.GenerationRequest;
import dalle2.messages.ImageEmbeddings;
import dalle2.messages.JobStatus;
import dalle2.messages.Messages;
import dalle2.pipeline.StageWorker;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Poison on every input topic of the pipeline, against a real gateway, prior worker and decoder worker (tiny real
 * networks) on the in-JVM broker and S3Proxy: every record a worker can read ends as a processed job or a dead
 * letter carrying the original bytes and headers naming reason, source topic, partition and offset; the job it
 * names (when it names one) ends failed with that reason; and the pipeline still runs a good job afterwards.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PoisonRecordsTest {

    @RegisterExtension
    static final EmbeddedServersExtension servers = EmbeddedServersExtension.kafkaAndS3();

    private static final Pattern JOB_ID = Pattern.compile("[A-Za-z0-9._-]{1,64}");
    private static final Duration WAIT = Duration.ofSeconds(30);

    /**
     * One kind of poison: the record key and value it is produced with, built from a fresh job id; {@code names}
     * the job the dead letter is keyed by and that must end failed (null when the record names no valid job).
     */
    record Poison(String kind, String topic, Function<String, Produced> make) {
        @Override
        public String toString() {
            return topic + ": " + kind;
        }
    }

    record Produced(String key, byte[] value, String names) {
        static Produced keyed(String jobId, String value) {
            return new Produced(jobId, utf8(value), jobId);
        }

        static Produced keyed(String jobId, byte[] value) {
            return new Produced(jobId, value, jobId);
        }
    }

    private PipelineServices services;
    private KafkaProducer<String, byte[]> producer;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static int decoderDim;

    @BeforeAll
    void start() throws Exception {
        servers.createTopics(2, 2, 2);
        var models = ModelFactory.load(TinyModels.folder());
        try (var decoder = models.decoderModel(ai.djl.Device.cpu())) {
            decoderDim = decoder.embeddingDim();
        }
        services = PipelineServices.start(new PipelineServices.Settings(servers.bootstrap(),
                servers.storage("poison-images"), "127.0.0.1", 0, 1, 1, dalle2.djl.DeviceChoice.CPU, 8, 4,
                Duration.ofMillis(20)), models);
        producer = KafkaClients.producer(servers.bootstrap(), "poison-producer");
    }

    @AfterAll
    void stop() {
        if (producer != null) {
            producer.close();
        }
        if (services != null) {
            services.close();
        }
    }

    // ---- the poison ------------------------------------------------------------------------------------------

    static String request(String jobId, String extra) {
        return "{\"schema_version\":1,\"job_id\":\"" + jobId + "\",\"prompt\":\"a red cube\",\"n\":1,\"seed\":3,"
                + "\"prior_steps\":2,\"decoder_steps\":2" + extra + "}";
    }

    /** A valid embeddings message for {@code jobId} as a JSON tree, to break one part of. */
    static com.fasterxml.jackson.databind.node.ObjectNode embeddings(String jobId, float[]... vectors) {
        GenerationRequest r = GenerationRequest.of(jobId, "a red cube", vectors.length, 3L, 2, 2, 0.0, 1.0, 1.0,
                Instant.now(), null);
        ImageEmbeddings e = ImageEmbeddings.of(r, "test-prior", List.of(vectors), Instant.now(), Instant.now());
        try {
            return (com.fasterxml.jackson.databind.node.ObjectNode) Json.mapper().readTree(Messages.encode(e));
        } catch (java.io.IOException ex) {
            throw new IllegalStateException(ex);
        }
    }

    static float[] vector(int dim, float value) {
        float[] v = new float[dim];
        Arrays.fill(v, value);
        return v;
    }

    /** Poison that any JSON topic can be fed. */
    static Stream<Poison> anyTopic(String topic, Function<String, String> goodValue) {
        List<Poison> p = new ArrayList<>();
        p.add(new Poison("the JSON null", topic, id -> Produced.keyed(id, "null")));
        p.add(new Poison("an empty value", topic, id -> Produced.keyed(id, new byte[0])));
        p.add(new Poison("a tombstone (no value)", topic, id -> Produced.keyed(id, (byte[]) null)));
        p.add(new Poison("malformed JSON", topic, id -> Produced.keyed(id, "{\"job_id\":")));
        p.add(new Poison("truncated JSON", topic, id -> {
            String good = goodValue.apply(id);
            return Produced.keyed(id, good.substring(0, good.length() / 2));
        }));
        p.add(new Poison("random bytes", topic, id -> {
            byte[] b = new byte[512];
            new Random(id.hashCode()).nextBytes(b);
            return Produced.keyed(id, b);
        }));
        p.add(new Poison("invalid UTF-8", topic, id -> Produced.keyed(id,
                new byte[] {'{', '"', 'j', (byte) 0xc3, '(', '"', ':', '1', '}'})));
        p.add(new Poison("a JSON array", topic, id -> Produced.keyed(id, "[1,2,3]")));
        p.add(new Poison("a JSON string", topic, id -> Produced.keyed(id, "\"a red cube\"")));
        p.add(new Poison("a JSON number", topic, id -> Produced.keyed(id, "42")));
        p.add(new Poison("an unknown schema version", topic, id -> Produced.keyed(id,
                goodValue.apply(id).replace("\"schema_version\":1", "\"schema_version\":99"))));
        p.add(new Poison("an unknown extra field", topic, id -> Produced.keyed(id,
                goodValue.apply(id).replaceFirst("\\{", "{\"colour\":\"red\","))));
        p.add(new Poison("deep nesting", topic, id -> Produced.keyed(id, goodValue.apply(id)
                .replaceFirst("\\{", "{\"x\":" + "[".repeat(5000) + "]".repeat(5000) + ","))));
        p.add(new Poison("a NaN token", topic, id -> Produced.keyed(id,
                goodValue.apply(id).replaceFirst("\\{", "{\"eta\":NaN,"))));
        p.add(new Poison("a huge payload (900 kB)", topic, id -> Produced.keyed(id,
                goodValue.apply(id).replaceFirst("\\{", "{\"x\":\"" + "a".repeat(900_000) + "\","))));
        p.add(new Poison("a key other than its job id", topic, id -> new Produced("other-" + id,
                utf8(goodValue.apply(id)), id)));
        p.add(new Poison("no key", topic, id -> new Produced(null, utf8(goodValue.apply(id)), id)));
        p.add(new Poison("a path-traversal job id", topic, id -> new Produced("../" + id,
                utf8(goodValue.apply(id).replace(id, "../" + id)), null)));
        return p.stream();
    }

    static Stream<Poison> requestPoison() {
        String t = Topics.REQUESTS;
        return Stream.concat(anyTopic(t, id -> request(id, "")), Stream.of(
                new Poison("no job id", t, id -> Produced.keyed(id, "{\"prompt\":\"a red cube\"}")),
                new Poison("no prompt", t, id -> Produced.keyed(id, "{\"job_id\":\"" + id + "\"}")),
                new Poison("a wrong type (n as text)", t, id -> Produced.keyed(id,
                        request(id, "").replace("\"n\":1", "\"n\":\"1\""))),
                new Poison("n out of range", t, id -> Produced.keyed(id, request(id, "").replace("\"n\":1", "\"n\":9"))),
                new Poison("negative steps", t, id -> Produced.keyed(id,
                        request(id, "").replace("\"prior_steps\":2", "\"prior_steps\":-1"))),
                new Poison("a number too big for its type", t, id -> Produced.keyed(id,
                        request(id, "").replace("\"seed\":3", "\"seed\":123456789012345678901234567890"))),
                new Poison("an infinite eta (1e999)", t, id -> Produced.keyed(id, request(id, ",\"eta\":1e999"))),
                new Poison("a lone surrogate in the prompt", t, id -> Produced.keyed(id,
                        request(id, "").replace("a red cube", "a red \\ud800 cube"))),
                new Poison("a prompt over 1000 characters", t, id -> Produced.keyed(id,
                        request(id, "").replace("a red cube", "a".repeat(1001)))),
                new Poison("a submitted_at that is no instant", t, id -> Produced.keyed(id,
                        request(id, ",\"submitted_at\":\"yesterday\"")))));
    }

    static Stream<Poison> embeddingPoison() {
        String t = Topics.EMBEDDINGS;
        Function<String, String> good = id -> embeddings(id, vector(decoderDim, 0.1f)).toString();
        return Stream.concat(anyTopic(t, good), Stream.of(
                new Poison("an embedding of the wrong length", t, id -> Produced.keyed(id,
                        embeddings(id, vector(decoderDim, 0.1f)).put("dim", decoderDim + 1).toString())),
                new Poison("a NaN in an embedding", t, id -> {
                    var tree = embeddings(id, vector(decoderDim, 0.1f));
                    float[] v = vector(decoderDim, 0.1f);
                    v[3] = Float.NaN;
                    tree.putArray("embeddings").add(Float32.encode(v));
                    return Produced.keyed(id, tree.toString());
                }),
                new Poison("an infinity in an embedding", t, id -> {
                    var tree = embeddings(id, vector(decoderDim, 0.1f));
                    float[] v = vector(decoderDim, 0.1f);
                    v[0] = Float.POSITIVE_INFINITY;
                    tree.putArray("embeddings").add(Float32.encode(v));
                    return Produced.keyed(id, tree.toString());
                }),
                new Poison("embeddings the decoder's width cannot take", t, id -> Produced.keyed(id,
                        embeddings(id, vector(decoderDim * 2, 0.1f)).toString())),
                new Poison("more embeddings than images", t, id -> {
                    var tree = embeddings(id, vector(decoderDim, 0.1f));
                    tree.withArray("embeddings").add(Float32.encode(vector(decoderDim, 0.2f)));
                    return Produced.keyed(id, tree.toString());
                }),
                new Poison("an embedding that is not base64", t, id -> {
                    var tree = embeddings(id, vector(decoderDim, 0.1f));
                    tree.putArray("embeddings").add("not base64 at all!");
                    return Produced.keyed(id, tree.toString());
                }),
                new Poison("a job id other than its request's", t, id -> Produced.keyed(id,
                        embeddings(id, vector(decoderDim, 0.1f)).put("job_id", id + "-x").toString())),
                new Poison("no request", t, id -> {
                    var tree = embeddings(id, vector(decoderDim, 0.1f));
                    tree.remove("request");
                    return Produced.keyed(id, tree.toString());
                })));
    }

    // ---- the tests ---------------------------------------------------------------------------------------------

    private int sequence;

    @Order(1)
    @ParameterizedTest(name = "{0}")
    @MethodSource({"requestPoison", "embeddingPoison"})
    void aPoisonRecordIsDeadLetteredWithItsBytesAndSourceAndTheJobItNamesFailsWithTheReason(Poison poison)
            throws Exception {
        String jobId = "poison-" + poison.topic().replace('.', '-') + "-" + (++sequence) + "-"
                + Long.toHexString(System.nanoTime());
        Produced p = poison.make().apply(jobId);
        RecordMetadata at = producer.send(new ProducerRecord<>(poison.topic(), p.key(), p.value())).get();

        DeadLetter letter = awaitDeadLetterOf(poison.topic(), at.partition(), at.offset());
        assertArrayEquals(p.value(), letter.value(), "the original bytes");
        assertEquals(p.key(), letter.key(), "the original key");
        assertFalse(letter.reason().isBlank());

        String named = p.names() != null && JOB_ID.matcher(p.names()).matches() ? p.names() : null;
        if (named != null) {
            JsonNode job = awaitState(named, "failed");
            assertEquals(letter.reason(), job.path("error").path("message").asText(), job.toString());
        }
        assertWorkersConsume();
    }

    @Order(2)
    @Test
    void aDuplicateDeliveryOfARequestRunsTheJobOnceAndAGoodJobStillSucceeds() throws Exception {
        String jobId = "duplicate-" + Long.toHexString(System.nanoTime());
        StageWorker<?, ?, ?, ?> prior = services.priorWorkers().get(0);
        long skippedBefore = prior.stats().jobsSkipped();
        byte[] value = utf8(request(jobId, ""));
        producer.send(new ProducerRecord<>(Topics.REQUESTS, jobId, value)).get();
        producer.send(new ProducerRecord<>(Topics.REQUESTS, jobId, value)).get();
        assertEquals("succeeded", awaitState(jobId, "succeeded").path("state").asText());
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (prior.stats().jobsSkipped() == skippedBefore) {
            assertTrue(System.nanoTime() < deadline, "the second delivery is skipped");
            Thread.sleep(50);
        }
        List<JobStatus> embeddingsOutputs = new ArrayList<>();
        for (ConsumerRecord<String, byte[]> r : readAll(Topics.STATUS)) {
            if (jobId.equals(r.key())) {
                JobStatus s = Messages.decode(r.value(), JobStatus.class);
                if (s.state() == dalle2.messages.JobState.SUCCEEDED) {
                    embeddingsOutputs.add(s);
                }
            }
        }
        assertEquals(1, embeddingsOutputs.size(), "one succeeded status: the job ran once");
        assertWorkersConsume();
    }

    @Order(3)
    @Test
    void poisonOnTheStatusTopicIsPassedOverByEveryViewAndTheGatewayStaysReady() throws Exception {
        String unknown = "never-submitted-" + Long.toHexString(System.nanoTime());
        JobStatus cancelOfUnknown = JobStatus.failedUnreadable(unknown, "x", "y");
        for (byte[] poison : List.of(utf8("null"), utf8("{\"job_id\":"), new byte[] {(byte) 0xff, 0x01}, utf8("[]"),
                utf8(new String(Messages.encode(cancelOfUnknown), StandardCharsets.UTF_8)
                        .replace("\"failed\"", "\"cancelled\"")))) {
            producer.send(new ProducerRecord<>(Topics.STATUS, "status-poison", poison)).get();
        }
        String jobId = "after-status-poison-" + Long.toHexString(System.nanoTime());
        producer.send(new ProducerRecord<>(Topics.REQUESTS, jobId, utf8(request(jobId, "")))).get();
        assertEquals("succeeded", awaitState(jobId, "succeeded").path("state").asText());
        HttpResponse<String> ready = http.send(HttpRequest.newBuilder(URI.create(services.gatewayUrl() + "/readyz"))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, ready.statusCode(), ready.body());
        assertTrue(services.gateway().verticle().statusView().healthy());
        assertEquals(0, services.gateway().verticle().statusView().restarts(), "no record stopped the view");
        assertWorkersConsume();
    }

    // ---- helpers -----------------------------------------------------------------------------------------------

    private void assertWorkersConsume() {
        for (StageWorker<?, ?, ?, ?> w : List.<StageWorker<?, ?, ?, ?>>of(services.priorWorkers().get(0),
                services.decoderWorkers().get(0))) {
            assertTrue(w.polling(), w.workerId() + " still polls");
            assertEquals(0, w.stats().pollLoopRestarts(), w.workerId() + ": no record stopped its poll loop");
            assertTrue(w.statusView().healthy(), w.workerId() + "'s status view is current");
        }
    }

    private DeadLetter awaitDeadLetterOf(String topic, int partition, long offset) {
        try (KafkaConsumer<String, byte[]> c = fromBeginning(Topics.DEAD_LETTERS)) {
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (System.nanoTime() < deadline) {
                for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(100))) {
                    DeadLetter d = DeadLetters.read(r);
                    if (d.topic().equals(topic) && d.partition() == partition && d.offset() == offset) {
                        return d;
                    }
                }
            }
        }
        throw new AssertionError("no dead letter of " + topic + "-" + partition + "@" + offset + " within " + WAIT);
    }

    private List<ConsumerRecord<String, byte[]>> readAll(String topic) {
        List<ConsumerRecord<String, byte[]>> all = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> c = fromBeginning(topic)) {
            var end = c.endOffsets(c.assignment());
            while (end.entrySet().stream().anyMatch(e -> c.position(e.getKey()) < e.getValue())) {
                c.poll(Duration.ofMillis(100)).forEach(all::add);
            }
        }
        return all;
    }

    private KafkaConsumer<String, byte[]> fromBeginning(String topic) {
        KafkaConsumer<String, byte[]> c = KafkaClients.readerConsumer(servers.bootstrap(), "poison-reader");
        List<TopicPartition> partitions = c.partitionsFor(topic).stream()
                .map(i -> new TopicPartition(i.topic(), i.partition())).toList();
        c.assign(partitions);
        c.seekToBeginning(partitions);
        return c;
    }

    private JsonNode awaitState(String jobId, String state) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        JsonNode last = null;
        while (System.nanoTime() < deadline) {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(services.gatewayUrl()
                    + "/v1/generations/" + jobId)).build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() == 200) {
                last = Json.mapper().readTree(r.body());
                String now = last.path("state").asText();
                if (now.equals(state)) {
                    return last;
                }
                if (now.equals("succeeded") || now.equals("failed") || now.equals("cancelled")) {
                    throw new AssertionError(jobId + " ended " + now + ", expected " + state + ": " + last);
                }
            }
            Thread.sleep(50);
        }
        throw new AssertionError(jobId + " not " + state + " within " + WAIT + ": " + last);
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
