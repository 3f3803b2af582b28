package dalle2.prior;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dalle2.embedded.EmbeddedServersExtension;
import dalle2.inference.EmbedTask;
import dalle2.inference.ImageEmbeddingModel;
import dalle2.kafka.KafkaClients;
import dalle2.kafka.Topics;
import dalle2.messages.GenerationRequest;
import dalle2.messages.Messages;
import dalle2.messages.SamplingParams;
import dalle2.ops.WorkerOpsServer;
import dalle2.pipeline.StageWorker;
import dalle2.sampling.DdimSampler;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.LoggerFactory;

/**
 * A prior worker whose model throws: the job fails with {@code model_error}, the failure is counted by reason on
 * {@code /metrics}, and the model thread's error line names the jobs of the batch.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class PriorWorkerModelFailureTest {

    @RegisterExtension
    static final EmbeddedServersExtension servers = EmbeddedServersExtension.kafkaOnly();

    /** A model that fails every call, as a model out of memory would. */
    private static final class BrokenModel implements ImageEmbeddingModel {
        @Override
        public String version() {
            return "prior@broken";
        }

        @Override
        public int embeddingDim() {
            return 8;
        }

        @Override
        public List<float[]> embed(SamplingParams params, List<EmbedTask> tasks, DdimSampler.Progress progress) {
            throw new IllegalStateException("out of memory (test)");
        }
    }

    @Test
    void aModelErrorFailsTheJobCountsItByReasonAndLogsTheJobsOfTheBatch() throws Exception {
        WorkerOpsServer ops = servers.closeAfterAll(WorkerOpsServer.start("127.0.0.1", 0, servers.bootstrap()));
        KafkaProducer<String, byte[]> producer = servers.closeAfterAll(
                KafkaClients.producer(servers.bootstrap(), "model-failure-test"));
        PriorWorker worker = servers.closeAfterAll(new PriorWorker(
                StageWorker.Config.defaults(servers.bootstrap(), "broken", 4), new BrokenModel()));
        worker.start(Duration.ofSeconds(60));
        ops.watch(worker);

        Logger stageLog = (Logger) LoggerFactory.getLogger(StageWorker.class);
        ListAppender<ILoggingEvent> logged = new ListAppender<>();
        logged.start();
        stageLog.addAppender(logged);
        try {
            GenerationRequest request = GenerationRequest.of("broken-job-1", "a red apple", 2, 5L, 2, 2, null, null,
                    null, Instant.now(), null);
            producer.send(new ProducerRecord<>(Topics.REQUESTS, request.jobId(), Messages.encode(request))).get();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (worker.stats().jobsFailed() < 1) {
                assertTrue(System.nanoTime() < deadline, "the job fails");
                Thread.sleep(50);
            }
        } finally {
            stageLog.detachAppender(logged);
        }

        String metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(ops.url() + "/metrics"))
                .build(), HttpResponse.BodyHandlers.ofString()).body();
        assertTrue(metrics.contains("dalle2_worker_failures_total{pool=\"prior\",reason=\"model_error\",worker=\"broken\"} 1.0"),
                metrics);
        assertTrue(metrics.contains("dalle2_worker_failures_total{pool=\"prior\",reason=\"storage_error\",worker=\"broken\"} 0.0"),
                "the other reasons are exported at zero");
        assertTrue(metrics.contains("dalle2_worker_model_version{pool=\"prior\",version=\"prior@broken\",worker=\"broken\"} 1.0"),
                metrics);

        ILoggingEvent modelFailed = logged.list.stream()
                .filter(e -> e.getFormattedMessage().contains("model failed on a batch")).findFirst()
                .orElseThrow(() -> new AssertionError("no model failure line in " + logged.list));
        assertEquals("broken-job-1", modelFailed.getMDCPropertyMap().get(StageWorker.JOB_IDS_MDC_KEY));
    }
}
