package dalle2.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle2.cli.WorkerOptions.Pool;
import dalle2.pipeline.StageWorker;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class CommandsTest {

    @Test
    void everyPipelineRoleIsASubcommand() {
        CommandLine cli = new CommandLine(new Main());
        for (String name : new String[] {"up", "generate", "gateway", "prior-worker", "decoder-worker"}) {
            assertTrue(cli.getSubcommands().containsKey(name), name);
        }
    }

    @Test
    void withoutTheModelsTheFactoryRefusesNamingTheMissingOne() {
        ModelFactory.ModelsUnavailableException e = assertThrows(ModelFactory.ModelsUnavailableException.class,
                () -> ModelFactory.load(Path.of("target/no-models")));
        assertTrue(e.getMessage().startsWith("no clip model in"), e.getMessage());
    }

    @Test
    void generateFailsWithTheModelsMessageBeforeStartingAnything() {
        StringWriter err = new StringWriter();
        CommandLine cli = new CommandLine(new Main()).setErr(new PrintWriter(err));
        int code = cli.execute("generate", "a cat", "--n", "1", "--data-dir", "target/never-created",
                "--models", "target/no-models");
        assertEquals(1, code);
        assertTrue(err.toString().contains("no clip model in"), err.toString());
        assertTrue(!java.nio.file.Files.exists(Path.of("target/never-created")));
    }

    @Test
    void theWorkerCommandsShareTheirOptionsWithAnOpsPortPerPool() {
        PriorWorkerCommand prior = parse("prior-worker", "--kafka", "k:1");
        DecoderWorkerCommand decoder = parse("decoder-worker", "--kafka", "k:1", "--s3", "http://s3:9000",
                "--s3-key", "key", "--s3-secret", "secret", "--bucket", "b", "--device", "cpu");
        assertEquals(9101, prior.worker.httpPort(Pool.PRIOR), "prior and decoder side by side on one host");
        assertEquals(9102, decoder.worker.httpPort(Pool.DECODER));
        assertEquals("0.0.0.0", prior.worker.httpHost, "reachable by a kubelet and Prometheus in a container");
        assertEquals(8, prior.worker.maxBatchOr(PriorWorkerCommand.DEFAULT_MAX_BATCH));
        assertEquals(4, decoder.worker.maxBatchOr(4), "the decoder's default comes from the device");
        assertEquals("k:1", decoder.worker.connection.kafka);
        assertEquals("http://s3:9000", decoder.worker.connection.storage().endpoint());

        StageWorker.Config config = prior.worker.config(Pool.PRIOR, 8);
        assertEquals("k:1", config.bootstrap());
        assertEquals(Duration.ofMillis(20), config.maxWait());
        assertTrue(config.workerId().startsWith("prior-"), config.workerId());
    }

    @Test
    void workerOptionsOverrideIdBatchWaitAndOpsAddress() {
        PriorWorkerCommand prior = parse("prior-worker", "--worker-id", "p7", "--max-batch", "3", "--max-wait-ms",
                "50", "--http-host", "127.0.0.1", "--http-port", "0", "--models", "elsewhere");
        assertEquals(3, prior.worker.maxBatchOr(PriorWorkerCommand.DEFAULT_MAX_BATCH));
        assertEquals(0, prior.worker.httpPort(Pool.PRIOR), "0: any free port");
        assertEquals("127.0.0.1", prior.worker.httpHost);
        assertEquals(Path.of("elsewhere"), prior.worker.models);
        StageWorker.Config config = prior.worker.config(Pool.PRIOR, 3);
        assertEquals("p7", config.workerId());
        assertEquals(3, config.maxBatch());
        assertEquals(Duration.ofMillis(50), config.maxWait());
        assertEquals(-1, this.<DecoderWorkerCommand>parse("decoder-worker", "--http-port", "-1").worker
                .httpPort(Pool.DECODER), "-1: no endpoints");
    }

    @SuppressWarnings("unchecked")
    private <C> C parse(String... args) {
        return (C) new CommandLine(new Main()).parseArgs(args).subcommand().commandSpec().userObject();
    }
}
