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
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class CommandsTest {

    @Test
    void everyPipelineRoleIsASubcommand() {
        CommandLine cli = new CommandLine(new Main());
        for (String name : new String[] {"up", "generate", "gateway", "prior-worker", "decoder-worker",
                "upsampler-worker"}) {
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
    void eachPoolLoadsOnlyItsOwnModels(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path tiny = dalle2.inference.TinyModels.write(dir.resolve("all"));
        Path priorOnly = dir.resolve("prior-only");
        Path decoderOnly = dir.resolve("decoder-only");
        copy(tiny.resolve("clip"), priorOnly.resolve("clip"));
        copy(tiny.resolve("prior"), priorOnly.resolve("prior"));
        copy(tiny.resolve("decoder"), decoderOnly.resolve("decoder"));

        try (var prior = ModelFactory.forPriorPool(priorOnly).embeddingModel()) {
            assertTrue(prior.version().contains("+"), prior.version());
        }
        try (var decoder = ModelFactory.forDecoderPool(decoderOnly).decoderModel(ai.djl.Device.cpu())) {
            assertTrue(decoder.embeddingDim() > 0);
        }
        ModelFactory.ModelsUnavailableException noDecoder = assertThrows(
                ModelFactory.ModelsUnavailableException.class, () -> ModelFactory.forDecoderPool(priorOnly));
        assertTrue(noDecoder.getMessage().startsWith("no decoder model in"), noDecoder.getMessage());
        ModelFactory.ModelsUnavailableException noClip = assertThrows(
                ModelFactory.ModelsUnavailableException.class, () -> ModelFactory.forPriorPool(decoderOnly));
        assertTrue(noClip.getMessage().startsWith("no clip model in"), noClip.getMessage());
    }

    private static void copy(Path from, Path to) throws java.io.IOException {
        java.nio.file.Files.createDirectories(to);
        try (var files = java.nio.file.Files.list(from)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                java.nio.file.Files.copy(f, to.resolve(f.getFileName()));
            }
        }
    }

    @Test
    void generateSplitsTwentyImagesIntoJobsOfAtMostEightWithConsecutiveSeeds() throws Exception {
        GenerateCommand command = new GenerateCommand();
        new CommandLine(command).parseArgs("a red apple", "--n", "20", "--seed", "7", "--decoder-steps", "10");
        List<String> bodies = command.requestBodies();
        assertEquals(3, bodies.size());
        int[] sizes = {8, 8, 4};
        for (int j = 0; j < 3; j++) {
            var body = dalle2.json.Json.mapper().readTree(bodies.get(j));
            assertEquals(sizes[j], body.path("n").asInt(), bodies.get(j));
            assertEquals(7 + j, body.path("seed").asLong(), bodies.get(j));
            assertEquals(10, body.path("decoder_steps").asInt(), bodies.get(j));
            assertEquals("a red apple", body.path("prompt").asText());
        }
        GenerateCommand small = new GenerateCommand();
        new CommandLine(small).parseArgs("one", "--n", "3");
        List<String> one = small.requestBodies();
        assertEquals(1, one.size());
        assertTrue(dalle2.json.Json.mapper().readTree(one.get(0)).path("seed").isMissingNode(), one.get(0));
    }

    @Test
    void generateHasAFlagForEveryGenerationField() throws Exception {
        GenerateCommand command = new GenerateCommand();
        new CommandLine(command).parseArgs("a red apple", "--prior-steps", "12", "--decoder-steps", "20",
                "--prior-guidance", "1.5", "--decoder-guidance", "4", "--eta", "0.3", "--sampler", "ddim", "--size", "32",
                "--webhook", "https://hooks.example/job", "--prior-sampler", "dpmpp-2m");
        var body = dalle2.json.Json.mapper().readTree(command.requestBodies().get(0));
        assertEquals(12, body.path("prior_steps").asInt());
        assertEquals(20, body.path("decoder_steps").asInt());
        assertEquals(1.5, body.path("prior_guidance").asDouble());
        assertEquals(4.0, body.path("decoder_guidance").asDouble());
        assertEquals(0.3, body.path("eta").asDouble());
        assertEquals("ddim", body.path("sampler").asText());
        assertEquals("dpmpp-2m", body.path("prior_sampler").asText());
        assertEquals(32, body.path("size").asInt());
        assertEquals("https://hooks.example/job", body.path("webhook").asText());
        GenerateCommand plain = new GenerateCommand();
        new CommandLine(plain).parseArgs("a red apple");
        var defaults = dalle2.json.Json.mapper().readTree(plain.requestBodies().get(0));
        for (String field : List.of("prior_steps", "prior_guidance", "decoder_guidance", "eta", "sampler",
                "prior_sampler", "webhook")) {
            assertTrue(defaults.path(field).isMissingNode(), field + " is the gateway's default unless given");
        }
    }

    @Test
    void generateSendsTheSizeOnlyWhenGivenAndRefusesOneThatIsNotASizeNamingTheOption() throws Exception {
        GenerateCommand sized = new GenerateCommand();
        new CommandLine(sized).parseArgs("a red apple", "--size", "64");
        assertEquals(64, dalle2.json.Json.mapper().readTree(sized.requestBodies().get(0)).path("size").asInt());
        GenerateCommand plain = new GenerateCommand();
        new CommandLine(plain).parseArgs("a red apple");
        assertTrue(dalle2.json.Json.mapper().readTree(plain.requestBodies().get(0)).path("size").isMissingNode(),
                "without --size the gateway's default applies");

        StringWriter err = new StringWriter();
        int code = new CommandLine(new Main()).setErr(new PrintWriter(err)).execute("generate", "a cat", "--size",
                "100", "--models", "target/no-models");
        assertEquals(2, code, err.toString());
        assertTrue(err.toString().contains("--size must be one of [32, 64, 128, 256], got 100"), err.toString());
    }

    @Test
    void theUpsamplerWorkerHasItsOwnOpsPortAndBatchesByDevice() {
        UpsamplerWorkerCommand upsampler = parse("upsampler-worker", "--kafka", "k:1", "--device", "cpu");
        assertEquals(9103, upsampler.worker.httpPort(Pool.UPSAMPLER), "beside the prior and decoder on one host");
        assertEquals(dalle2.upsampler.UpsamplerWorker.CPU_DEFAULT_MAX_BATCH,
                upsampler.worker.maxBatchOr(dalle2.upsampler.UpsamplerWorker.defaultMaxBatch(ai.djl.Device.cpu())));
        assertTrue(upsampler.worker.workerId(Pool.UPSAMPLER).startsWith("upsampler-"));
        ModelFactory.ModelsUnavailableException none = assertThrows(ModelFactory.ModelsUnavailableException.class,
                () -> ModelFactory.forUpsamplerPool(Path.of("target/no-models")));
        assertTrue(none.getMessage().startsWith("no upsampler model in"), none.getMessage());
    }

    @Test
    void theGatewayServesLargerSizesOnlyWhenToldAnUpsamplerIsDeployed() {
        assertTrue(!this.<GatewayCommand>parse("gateway").upsampler);
        assertTrue(this.<GatewayCommand>parse("gateway", "--upsampler").upsampler);
        assertEquals(List.of(32), dalle2.gateway.ImageSizes.BASE_ONLY.available());
        assertEquals(32, dalle2.gateway.ImageSizes.BASE_ONLY.defaultSize());
        assertEquals(256, dalle2.gateway.ImageSizes.WITH_UPSAMPLER.defaultSize());
    }

    @Test
    void generateSendsTheSamplerByItsApiNameOnlyWhenGivenAndRefusesAnUnknownOne() throws Exception {
        GenerateCommand dpm = new GenerateCommand();
        new CommandLine(dpm).parseArgs("a red apple", "--n", "2", "--sampler", "dpmpp-2m", "--decoder-steps", "15");
        assertEquals("dpmpp-2m", dalle2.json.Json.mapper().readTree(dpm.requestBodies().get(0)).path("sampler").asText());
        GenerateCommand plain = new GenerateCommand();
        new CommandLine(plain).parseArgs("a red apple");
        assertTrue(dalle2.json.Json.mapper().readTree(plain.requestBodies().get(0)).path("sampler").isMissingNode());

        StringWriter err = new StringWriter();
        int code = new CommandLine(new Main()).setErr(new PrintWriter(err)).execute("generate", "a cat", "--sampler",
                "euler", "--models", "target/no-models");
        assertEquals(2, code, err.toString());
        assertTrue(err.toString().contains("unknown sampler 'euler': expected one of ddim, dpmpp-2m"), err.toString());
    }

    @Test
    void evalTakesTheSamplerAndASeed() {
        EvalCommand eval = new EvalCommand();
        new CommandLine(eval).parseArgs("--sampler", "dpmpp-2m", "--seed", "2", "--decoder-steps", "15");
        assertEquals(dalle2.messages.SamplerKind.DPMPP_2M, eval.sampler);
        assertEquals(2, eval.seed);
        assertEquals(dalle2.messages.SamplerKind.DPMPP_2M, eval.priorSettings().sampler(), "both stages");
        assertEquals(dalle2.messages.SamplerKind.DPMPP_2M, eval.decoderSettings().sampler());
        EvalCommand split = new EvalCommand();
        new CommandLine(split).parseArgs("--decoder-sampler", "ddim", "--prior-sampler", "ddim");
        assertEquals(dalle2.messages.SamplerKind.DDIM, split.priorSettings().sampler());
        assertEquals(64, split.priorSettings().steps(), "the DDIM prior's default steps");
        assertEquals(dalle2.messages.SamplerKind.DDIM, split.decoderSettings().sampler());
        assertEquals(50, split.decoderSettings().steps(), "the DDIM decoder's default steps");
    }

    @Test
    void evalDefaultsToTheSamplingSettingsOfARequestWithoutThem() {
        EvalCommand eval = new EvalCommand();
        new CommandLine(eval).parseArgs();
        // a request as the gateway builds one from a body naming none of the sampling fields
        dalle2.messages.GenerationRequest request = dalle2.messages.GenerationRequest.of("job", "a cat", null, null,
                null, null, null, null, null, dalle2.messages.ApiDefaults.decoderSampler(null, null),
                dalle2.messages.ApiDefaults.priorSampler(null, null), null, java.time.Instant.EPOCH, null);
        assertEquals(dalle2.inference.EmbedTask.params(request), eval.priorSettings());
        assertEquals(dalle2.inference.DecodeTask.params(dalle2.messages.ImageEmbeddings.of(request, "prior@test",
                List.of(new float[] {0f}), java.time.Instant.EPOCH, java.time.Instant.EPOCH)), eval.decoderSettings());
    }

    @Test
    void modelsHalfHalvesAFoldersWeightsAndRefusesAFolderWithoutThem(@org.junit.jupiter.api.io.TempDir Path dir)
            throws Exception {
        Path decoder = dir.resolve("decoder");
        java.nio.file.Files.createDirectories(decoder);
        for (Path file : java.nio.file.Files.newDirectoryStream(TinyModels.folder().resolve("decoder"))) {
            java.nio.file.Files.copy(file, decoder.resolve(file.getFileName()));
        }
        Path weights = decoder.resolve("weights.safetensors");
        long before = java.nio.file.Files.size(weights);
        String version = dalle2.messages.ModelVersion.of(decoder);

        StringWriter err = new StringWriter();
        int code = new CommandLine(new Main()).setErr(new PrintWriter(err)).execute("models", "half",
                decoder.toString(), dir.resolve("nothing").toString());
        assertEquals(2, code, err.toString());
        assertTrue(err.toString().contains("nothing is not a model folder"), err.toString());
        assertEquals(before, java.nio.file.Files.size(weights), "nothing is stored when one folder is refused");

        assertEquals(0, new CommandLine(new Main()).execute("models", "half", decoder.toString()));
        assertTrue(java.nio.file.Files.size(weights) < 0.55 * before);
        assertTrue(!version.equals(dalle2.messages.ModelVersion.of(decoder)), "half weights are another version");
    }

    @Test
    void generateRefusesAnImageCountOutOfRangeNamingTheOption() {
        for (String n : new String[] {"0", "-3", "257"}) {
            StringWriter err = new StringWriter();
            int code = new CommandLine(new Main()).setErr(new PrintWriter(err)).execute("generate", "a cat", "--n", n,
                    "--models", "target/no-models");
            assertEquals(2, code, err.toString());
            assertTrue(err.toString().contains("--n must be in 1..256, got " + n), err.toString());
        }
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
        assertEquals("0.0.0.0", prior.worker.ops.httpHost, "reachable by a kubelet and Prometheus in a container");
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
    void theTrainerWorkerServesItsOpsEndpointsBesideThePools() {
        TrainerWorkerCommand trainer = parse("trainer-worker", "--kafka", "k:1");
        assertEquals(9104, trainer.ops.httpPort(TrainerWorkerCommand.DEFAULT_HTTP_PORT), "beside 9101-9103");
        assertEquals("0.0.0.0", trainer.ops.httpHost);
        TrainerWorkerCommand quiet = parse("trainer-worker", "--http-port", "-1", "--http-host", "127.0.0.1");
        assertEquals(-1, quiet.ops.httpPort(TrainerWorkerCommand.DEFAULT_HTTP_PORT), "-1: no endpoints");
        assertEquals("127.0.0.1", quiet.ops.httpHost);
    }

    @Test
    void workerOptionsOverrideIdBatchWaitAndOpsAddress() {
        PriorWorkerCommand prior = parse("prior-worker", "--worker-id", "p7", "--max-batch", "3", "--max-wait-ms",
                "50", "--http-host", "127.0.0.1", "--http-port", "0", "--models", "elsewhere");
        assertEquals(3, prior.worker.maxBatchOr(PriorWorkerCommand.DEFAULT_MAX_BATCH));
        assertEquals(0, prior.worker.httpPort(Pool.PRIOR), "0: any free port");
        assertEquals("127.0.0.1", prior.worker.ops.httpHost);
        assertEquals(Path.of("elsewhere"), prior.worker.models);
        StageWorker.Config config = prior.worker.config(Pool.PRIOR, 3);
        assertEquals("p7", config.workerId());
        assertEquals(3, config.maxBatch());
        assertEquals(Duration.ofMillis(50), config.maxWait());
        assertEquals(-1, this.<DecoderWorkerCommand>parse("decoder-worker", "--http-port", "-1").worker
                .httpPort(Pool.DECODER), "-1: no endpoints");
    }

    @Test
    void benchRefusesABadSamplingBatchNamingTheOptionBeforeLoadingAnything() {
        for (String[] args : new String[][] {{"--sampling-batches", "1,x"}, {"--sampling-batches", "0"},
                {"--sampling-runs", "0"}}) {
            StringWriter err = new StringWriter();
            int code = new CommandLine(new Main()).setErr(new PrintWriter(err))
                    .execute("bench", args[0], args[1], "--models", "target/no-models", "--torch", "none");
            assertEquals(2, code, err.toString());
            assertTrue(err.toString().contains(args[0]), err.toString());
        }
    }

    @SuppressWarnings("unchecked")
    private <C> C parse(String... args) {
        return (C) new CommandLine(new Main()).parseArgs(args).subcommand().commandSpec().userObject();
    }
}
