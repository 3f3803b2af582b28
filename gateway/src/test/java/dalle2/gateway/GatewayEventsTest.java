package dalle2.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle2.embedded.EmbeddedServersExtension;
import dalle2.kafka.KafkaClients;
import dalle2.kafka.Topics;
import dalle2.messages.GenerationRequest;
import dalle2.messages.JobState;
import dalle2.messages.JobStatus;
import dalle2.messages.Messages;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code GET /v1/generations/{id}/events} over a real HTTP connection (the JDK's client), on the real broker and
 * S3, with the test playing the workers' part on the status topic.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class GatewayEventsTest {

    @RegisterExtension
    static final EmbeddedServersExtension servers = EmbeddedServersExtension.kafkaAndS3();

    private static final Duration WAIT = Duration.ofSeconds(15);
    private static final String KEY = "events-key-0123456789abcdef";

    private static Gateway gateway;
    private static Gateway keyed;
    private static Gateway shortLived;
    private static GatewayTestClient client;
    private static KafkaProducer<String, byte[]> producer;

    @BeforeAll
    static void start() throws Exception {
        gateway = servers.closeAfterAll(Gateway.start(GatewayConfig.of("127.0.0.1", 0, servers.bootstrap(),
                servers.storage("images"))));
        keyed = servers.closeAfterAll(Gateway.start(GatewayConfig.of("127.0.0.1", 0, servers.bootstrap(),
                servers.storage("images"), GatewayPolicy.of(AccessConfig.keys(ApiKeys.parse(KEY))))));
        shortLived = servers.closeAfterAll(Gateway.start(GatewayConfig.of("127.0.0.1", 0, servers.bootstrap(),
                servers.storage("images")).withEventStreams(new EventStreams.Limits(Duration.ofMillis(200),
                Duration.ofSeconds(1), 2, Duration.ofMillis(100)))));
        client = servers.closeAfterAll(new GatewayTestClient(gateway.port()));
        producer = KafkaClients.producer(servers.bootstrap(), "events-test");
    }

    @AfterAll
    static void stop() {
        producer.close();
    }

    private static String submit(String body) {
        var r = client.web().post("/v1/generations").putHeader("Content-Type", "application/json")
                .sendBuffer(Buffer.buffer(body)).await();
        assertEquals(202, r.statusCode(), r.bodyAsString());
        return r.bodyAsJsonObject().getString("id");
    }

    /** Publishes what the workers would: each status of a job's life, as they write it. */
    private static final class Worker {
        private JobStatus status;

        Worker(String jobId) {
            status = JobStatus.queued(GenerationRequest.of(jobId, "an event", 2, 3L, 2, 3, 0.0, 1.0, 1.0,
                    Instant.now(), null));
        }

        Worker(JobStatus queued) {
            status = queued;
        }

        Worker prior(int step) throws Exception {
            Instant now = Instant.now();
            JobStatus.Timestamps t = status.timestamps().priorStartedAt() == null
                    ? status.timestamps().withPriorStarted(now) : status.timestamps().touched(now);
            return publish(status.with(JobState.PRIOR, t, new JobStatus.Progress("prior", step, 2)));
        }

        Worker decoding(int step) throws Exception {
            Instant now = Instant.now();
            JobStatus.Timestamps t = status.timestamps().decoderStartedAt() == null
                    ? status.timestamps().withPriorFinished(now).withDecoderStarted(now)
                    : status.timestamps().touched(now);
            return publish(status.with(JobState.DECODING, t, new JobStatus.Progress("decoder", step, 3)));
        }

        Worker succeeded() throws Exception {
            String id = status.jobId();
            return publish(status.succeeded(List.of(id + "/0.png", id + "/1.png"), Instant.now()));
        }

        private Worker publish(JobStatus next) throws Exception {
            status = next;
            producer.send(new ProducerRecord<>(Topics.STATUS, next.jobId(), Messages.encode(next))).get();
            return this;
        }
    }

    @Test
    void aStreamTellsEachStateAndStepOnceAndEndsWithTheFinalStateAndItsImages() throws Exception {
        String id = submit("{\"prompt\":\"an event\",\"n\":2,\"seed\":3,\"prior_steps\":2,\"decoder_steps\":3}");
        JobStatus queued = gateway.verticle().statusView().get(id).orElseThrow();
        try (EventStreamClient events = EventStreamClient.open(gateway.port(), "/v1/generations/" + id + "/events",
                null, null)) {
            assertEquals(200, events.statusCode());
            assertTrue(events.header("Content-Type").startsWith("text/event-stream"), events.header("Content-Type"));
            assertEquals("no-store", events.header("Cache-Control"));

            EventStreamClient.Event first = events.next(WAIT);
            assertEquals("state", first.name());
            assertEquals("queued", first.state());
            assertNotNull(first.data().getInteger("queue_position"), "a queued job tells its place: " + first);
            assertTrue(first.id().startsWith("queued"), first.id());

            Worker worker = new Worker(queued);
            worker.prior(0);
            EventStreamClient.Event prior = events.next(WAIT);
            assertEquals(List.of("state", "prior", "prior:prior.0"), List.of(prior.name(), prior.state(), prior.id()));
            assertEquals(0, prior.data().getJsonObject("progress").getInteger("step"));

            worker.prior(2).decoding(0).decoding(1);
            List<EventStreamClient.Event> seen = new ArrayList<>();
            while (seen.isEmpty() || !"decoding:decoder.1".equals(seen.get(seen.size() - 1).id())) {
                seen.add(events.next(WAIT));
            }
            // the view hands the stream every status, but a stream may skip a step when two arrive together
            List<String> ids = seen.stream().map(EventStreamClient.Event::id).toList();
            assertEquals(1, ids.stream().filter(i -> i.startsWith("decoding")).filter(i -> seen.get(ids.indexOf(i))
                    .name().equals("state")).count(), "one state event for decoding: " + ids);
            assertEquals(ids.size(), ids.stream().distinct().count(), "no event twice: " + ids);

            worker.succeeded();
            EventStreamClient.Event done = events.next(WAIT);
            assertEquals(List.of("state", "succeeded", "succeeded"), List.of(done.name(), done.state(), done.id()));
            assertEquals("/v1/generations/" + id + "/images/1.png",
                    done.data().getJsonArray("images").getJsonObject(1).getString("url"));
            assertTrue(events.endsWithin(WAIT), "the final state ends the stream");
        }
    }

    @Test
    void reconnectingWithLastEventIdSendsTheStatesPassedSinceOnceEachAndNothingAlreadySeen() throws Exception {
        Worker worker = new Worker("events-resume").prior(1);
        client.awaitState("events-resume", "prior");
        String path = "/v1/generations/events-resume/events";
        try (EventStreamClient same = EventStreamClient.open(gateway.port(), path, "prior:prior.1", null)) {
            assertEquals(200, same.statusCode());
            assertTrue(same.endsWithin(Duration.ofMillis(500)) == false, "nothing new: no event, no end");
            worker.decoding(2);
            EventStreamClient.Event next = same.next(WAIT);
            assertEquals(List.of("state", "decoding:decoder.2"), List.of(next.name(), next.id()));
        }
        worker.succeeded();
        client.awaitState("events-resume", "succeeded");
        try (EventStreamClient fromQueued = EventStreamClient.open(gateway.port(), path, "queued:q4", null)) {
            List<String> got = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                EventStreamClient.Event e = fromQueued.next(WAIT);
                assertEquals("state", e.name());
                got.add(e.id());
            }
            assertEquals(List.of("prior", "decoding", "succeeded"), got, "each state passed, once, in order");
            assertTrue(fromQueued.endsWithin(WAIT));
        }
        try (EventStreamClient seenAll = EventStreamClient.open(gateway.port(), path, "succeeded", null)) {
            assertEquals(204, seenAll.statusCode(), "the client saw the end: SSE's 'do not reconnect'");
        }
    }

    @Test
    void aCancelledJobEndsItsStreamWithCancelled() throws Exception {
        String id = submit("{\"prompt\":\"cancel me\"}");
        try (EventStreamClient events = EventStreamClient.open(gateway.port(), "/v1/generations/" + id + "/events",
                null, null)) {
            assertEquals("queued", events.next(WAIT).state());
            assertEquals(202, client.delete("/v1/generations/" + id).statusCode());
            EventStreamClient.Event cancelled = events.next(WAIT);
            assertEquals(List.of("state", "cancelled"), List.of(cancelled.name(), cancelled.state()));
            assertNull(cancelled.data().getValue("queue_position"));
            assertTrue(events.endsWithin(WAIT));
        }
    }

    @Test
    void aStreamEndsAtItsLifetimeAndTheClientResumesWithoutLosingAState() throws Exception {
        Worker worker = new Worker("events-lifetime").prior(0);
        String path = "/v1/generations/events-lifetime/events";
        awaitState(shortLived, "events-lifetime", JobState.PRIOR);
        String last;
        try (EventStreamClient events = EventStreamClient.open(shortLived.port(), path, null, null)) {
            last = events.next(WAIT).id();
            assertEquals("100", events.retry(), "the stream tells clients how soon to reconnect");
            assertEquals("prior:prior.0", last);
            assertTrue(events.endsWithin(Duration.ofSeconds(5)), "ended at its one-second lifetime");
        }
        worker.decoding(0).succeeded();
        awaitState(shortLived, "events-lifetime", JobState.SUCCEEDED);
        try (EventStreamClient resumed = EventStreamClient.open(shortLived.port(), path, last, null)) {
            assertEquals("decoding", resumed.next(WAIT).state(), "the state passed while disconnected");
            assertEquals("succeeded", resumed.next(WAIT).state());
        }
    }

    @Test
    void streamsPastTheGatewaysBoundAre503AndEachClosedStreamFreesItsPlace() throws Exception {
        new Worker("events-bound").prior(0);
        awaitState(shortLived, "events-bound", JobState.PRIOR);
        String path = "/v1/generations/events-bound/events";
        try (EventStreamClient a = EventStreamClient.open(shortLived.port(), path, null, null);
             EventStreamClient b = EventStreamClient.open(shortLived.port(), path, null, null);
             EventStreamClient c = EventStreamClient.open(shortLived.port(), path, null, null)) {
            assertEquals(200, a.statusCode());
            assertEquals(200, b.statusCode());
            assertEquals(503, c.statusCode());
            assertEquals("too_many_streams", new JsonObject(c.errorBody()).getJsonObject("error").getString("code"));
            assertNotNull(c.header("Retry-After"));
        }
        // the lifetime (1 s) ends the two open ones at the latest
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (shortLived.verticle().eventStreams().openStreams() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertEquals(0, shortLived.verticle().eventStreams().openStreams());
    }

    @Test
    void withApiKeysTheStreamNeedsAKeyAndUnknownJobsAndForeignIdsAreJsonErrors() throws Exception {
        new Worker("events-keyed").prior(0);
        awaitState(keyed, "events-keyed", JobState.PRIOR);
        String path = "/v1/generations/events-keyed/events";
        try (EventStreamClient none = EventStreamClient.open(keyed.port(), path, null, null)) {
            assertEquals(401, none.statusCode());
            assertEquals("unauthorized", new JsonObject(none.errorBody()).getJsonObject("error").getString("code"));
        }
        try (EventStreamClient ok = EventStreamClient.open(keyed.port(), path, null, KEY)) {
            assertEquals(200, ok.statusCode());
            assertEquals("prior", ok.next(WAIT).state());
        }
        try (EventStreamClient unknown = EventStreamClient.open(keyed.port(), "/v1/generations/nope/events", null,
                KEY)) {
            assertEquals(404, unknown.statusCode());
        }
        try (EventStreamClient bad = EventStreamClient.open(keyed.port(), path, "sometime:yesterday", KEY)) {
            assertEquals(400, bad.statusCode());
            JsonObject error = new JsonObject(bad.errorBody()).getJsonObject("error");
            assertEquals("invalid_header", error.getString("code"));
            assertEquals("Last-Event-ID", error.getString("field"));
        }
    }

    private static void awaitState(Gateway g, String id, JobState state) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (g.verticle().statusView().get(id).map(s -> s.state() != state).orElse(true)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(id + " never reached " + state + " on that gateway");
            }
            Thread.sleep(20);
        }
    }
}
