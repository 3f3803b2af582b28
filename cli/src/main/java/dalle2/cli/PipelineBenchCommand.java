package dalle2.cli;

import ai.djl.Device;
import com.fasterxml.jackson.databind.JsonNode;
import dalle2.cli.bench.Measurements;
import dalle2.cli.bench.StatusRecorder;
import dalle2.cli.bench.ThreadCpuByName;
import dalle2.decoder.DecoderWorker;
import dalle2.djl.DeviceChoice;
import dalle2.djl.DjlRuntime;
import dalle2.embedded.EmbeddedS3;
import dalle2.inference.DallE2;
import dalle2.inference.DecodeTask;
import dalle2.inference.EmbedTask;
import dalle2.inference.ImageDecoderModel;
import dalle2.inference.ImageEmbeddingModel;
import dalle2.inference.ModelProvider;
import dalle2.inference.TinyModels;
import dalle2.gateway.GatewayPolicy;
import dalle2.json.Json;
import dalle2.messages.JobState;
import dalle2.messages.JobStatus;
import dalle2.messages.SamplingParams;
import dalle2.pipeline.StageWorker;
import dalle2.prior.PriorWorker;
import dalle2.pipeline.StatusView;
import dalle2.sampling.DdimSampler;
import dalle2.sampling.NoiseStreams;
import dalle2.storage.ObjectStore;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntToDoubleFunction;
import java.util.function.ToDoubleFunction;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine;

/**
 * {@code dalle2 bench-pipeline}: the embedded stack in this JVM (Kafka, S3Proxy, gateway, one prior
 * and one decoder worker), timed from the jobs' own status records.
 *
 * <ul>
 *   <li>per-stage latency of one job, and p50/p95 over a burst, once per decoder max batch;</li>
 *   <li>pipeline overhead = end to end minus the model time of the same models called directly, same settings;</li>
 *   <li>decoder images/s per worker at each max batch (from first decoder start to last finished image), after an
 *   untimed burst of the same size, against the decoder alone before the stack started and right after the burst,
 *   with the share of the span in model calls and the JIT's compile time meanwhile;</li>
 *   <li>the same with the burst's embeddings all queued before a decoder worker starts ({@code --backlog}), so
 *   that the prior's model does not share the cores with the decoder's, against the decoder alone on the same
 *   calls right before and right after;</li>
 *   <li>the CPU each kind of thread of this process used during each burst ({@link ThreadCpuByName});</li>
 *   <li>gateway submits/s and polls/s over loopback HTTP.</li>
 * </ul>
 *
 * Every figure also lands in {@link #figures()} (name → value) for tests and scripts.
 */
@Command(name = "bench-pipeline", mixinStandardHelpOptions = true,
        description = "Time the whole pipeline (embedded stack): per-stage latency, overhead over the models, "
                + "decoder images/s by max batch, gateway requests/s.")
public final class PipelineBenchCommand implements Callable<Integer> {

    @Option(names = "--models", defaultValue = "trained_models", description = "model folder (default ${DEFAULT-VALUE})")
    Path models;

    @Option(names = "--tiny", description = "use tiny random-weight models written for this run instead of --models")
    boolean tiny;

    @Option(names = "--burst", defaultValue = "50", description = "jobs (n=1 each) submitted at once (default ${DEFAULT-VALUE})")
    int burst;

    @Option(names = "--decoder-batches", split = ",", defaultValue = "1,8",
            description = "decoder max batch of each burst run (default ${DEFAULT-VALUE})")
    List<Integer> decoderBatches;

    @Option(names = "--prior-max-batch", defaultValue = "8", description = "prior max batch (default ${DEFAULT-VALUE})")
    int priorMaxBatch;

    @Option(names = "--prior-steps", defaultValue = "8", description = "prior DDIM steps (default ${DEFAULT-VALUE})")
    int priorSteps;

    @Option(names = "--decoder-steps", defaultValue = "8", description = "decoder DDIM steps (default ${DEFAULT-VALUE})")
    int decoderSteps;

    @Option(names = "--prior-guidance", defaultValue = "2.0") float priorGuidance;
    @Option(names = "--decoder-guidance", defaultValue = "3.0") float decoderGuidance;

    @Option(names = "--model-repeats", defaultValue = "3", description = "direct model calls per figure; the median is shown")
    int modelRepeats;

    @Option(names = "--warm-up-jobs", defaultValue = "300",
            description = "jobs run through each new set of workers before anything is timed, so that the figures "
                    + "are a running service's: until the JIT has compiled the Kafka client's and broker's paths, "
                    + "every hop of a job takes about twice as long, and on 2 cores the compilers still take half a "
                    + "core after 50 jobs (BENCHMARKS.md, \"Pipeline\"); 5 gives the first jobs after a start "
                    + "(default ${DEFAULT-VALUE})")
    int warmUpJobs;

    @Option(names = "--warm-up-bursts", defaultValue = "2",
            description = "untimed bursts of --burst jobs before each timed one: a burst runs code one job at a time "
                    + "does not (bigger batches, paused partitions), which the JIT compiles during the first "
                    + "(default ${DEFAULT-VALUE})")
    int warmUpBursts;

    @Option(names = "--backlog", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "after each burst, another one with the decoder's input queued before a decoder worker "
                    + "starts (the prior done, its worker idle): the decoder worker then shares the cores with "
                    + "nothing of the pipeline but its own I/O (default: on; --no-backlog skips it)")
    boolean backlog;

    @Option(names = "--singles", defaultValue = "5",
            description = "one-job runs on the idle pipeline; each stage's median is shown (default ${DEFAULT-VALUE})")
    int singles;

    @Option(names = "--polls", defaultValue = "2000", description = "GET status requests (default ${DEFAULT-VALUE})")
    int polls;

    @Option(names = "--submits", defaultValue = "200", description = "POST requests (default ${DEFAULT-VALUE})")
    int submits;

    @Option(names = "--http-clients", defaultValue = "4", description = "concurrent HTTP clients (default ${DEFAULT-VALUE})")
    int httpClients;

    @Option(names = "--http-limit", defaultValue = "PT20S", description = "time bound of each HTTP loop (default ${DEFAULT-VALUE})")
    Duration httpLimit;

    @Option(names = "--timeout", defaultValue = "PT3M", description = "give up on a burst after (default ${DEFAULT-VALUE})")
    Duration timeout;

    @Option(names = "--data-dir", description = "Kafka log and images (default: a temporary folder, deleted afterwards)")
    Path dataDir;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    private final Map<String, Double> figures = new LinkedHashMap<>();
    private PrintWriter out;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    /** Every figure of the last run, by name (milliseconds end in {@code _ms}, rates in {@code _per_s}). */
    public Map<String, Double> figures() {
        return figures;
    }

    /** One job's life from its status records (wall clock) and the client's view. */
    record Timeline(String jobId, Instant clientSubmit, Instant submitted, Instant priorStarted, Instant priorFinished,
                    Instant decoderStarted, Instant decoded, Instant finished, Instant visible) {
        static double ms(Instant from, Instant to) {
            return Duration.between(from, to).toNanos() / 1e6;
        }
    }

    private record Stage(String key, String label, ToDoubleFunction<Timeline> ms) {
    }

    private static final List<Stage> STAGES = List.of(
            new Stage("queue_wait", "queue wait (submitted -> prior took it)", t -> Timeline.ms(t.submitted(), t.priorStarted())),
            new Stage("prior", "prior (taken -> embeddings done)", t -> Timeline.ms(t.priorStarted(), t.priorFinished())),
            new Stage("decoder_queue", "decoder queue (prior done -> decoder took it)", t -> Timeline.ms(t.priorFinished(), t.decoderStarted())),
            new Stage("decoder", "decoder (taken -> last U-Net step)", t -> Timeline.ms(t.decoderStarted(), t.decoded())),
            new Stage("upload", "upload (PNG + S3 put + status)", t -> Timeline.ms(t.decoded(), t.finished())),
            new Stage("visible", "status visible at the gateway (view took it)", t -> Timeline.ms(t.finished(), t.visible())),
            new Stage("e2e", "end to end (submitted -> visible)", t -> Timeline.ms(t.submitted(), t.visible())));

    @Override
    public Integer call() throws Exception {
        DjlRuntime.configure();
        out = spec.commandLine().getOut();
        figures.clear();
        int cores = Runtime.getRuntime().availableProcessors();
        double loadAtStart = Measurements.loadAverage();
        out.println("dalle2 bench-pipeline, " + ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME));
        out.println("command: ./dalle2 " + String.join(" ", spec.root().commandLine().getParseResult().originalArgs()));
        out.printf(Locale.ROOT, "machine: %d cores, libtorch %s intra-op / %s inter-op threads, java %s, 1-min load "
                        + "average %.2f%n", cores, System.getProperty(DjlRuntime.NUM_THREADS),
                System.getProperty(DjlRuntime.NUM_INTEROP_THREADS), System.getProperty("java.version"), loadAtStart);
        warnIfBusy(loadAtStart, cores);
        figure("machine.cores", cores);
        figure("machine.load_average_start", loadAtStart);

        boolean ownDataDir = dataDir == null;
        Path data = ownDataDir ? Files.createTempDirectory("dalle2-bench-pipeline") : dataDir;
        try {
            Path modelDir = tiny ? TinyModels.write(data.resolve("tiny-models")) : ModelFactory.resolve(models);
            ModelProvider provider;
            try {
                provider = ModelFactory.load(modelDir);
            } catch (ModelFactory.ModelsUnavailableException e) {
                throw new ModelFactory.ModelsUnavailableException(e.getMessage() + " (or run with --tiny)");
            }
            out.printf(Locale.ROOT, "models: %s%s; prior %d steps guidance %.1f, decoder %d steps guidance %.1f, "
                            + "eta 0, n=1 per job%n", modelDir.toAbsolutePath(), tiny ? " (tiny, random weights)" : "",
                    priorSteps, priorGuidance, decoderSteps, decoderGuidance);
            out.flush();

            try (DirectModels direct = modelAlone(modelDir);
                 // no workers of its own (the bench starts them), an upsampler pool neither: the jobs are base-size
                 // images, so that end to end minus the prior's and decoder's model time is the pipeline's overhead
                 EmbeddedStack stack = EmbeddedStack.start(data.resolve("stack"), 0, 0, 0, 0, provider,
                         GatewayPolicy.loopback(), null);
                 StatusRecorder recorder = StatusRecorder.start(stack.kafkaBootstrap())) {
                ObjectStore.Config storage = new ObjectStore.Config(stack.s3Endpoint(), EmbeddedS3.DEFAULT_ACCESS_KEY,
                        EmbeddedS3.DEFAULT_SECRET_KEY, EmbeddedStack.BUCKET);
                String singleJob = null;
                for (int maxBatch : decoderBatches) {
                    String id = pipeline(stack, storage, provider, recorder, direct, maxBatch, singleJob == null);
                    singleJob = singleJob == null ? id : singleJob;
                }
                gatewayLoops(stack.gatewayUrl(), singleJob);
            }
        } finally {
            if (ownDataDir) {
                deleteRecursively(data);
            }
        }
        double loadAtEnd = Measurements.loadAverage();
        figure("machine.load_average_end", loadAtEnd);
        out.printf(Locale.ROOT, "%n1-min load average at the end %.2f on %d cores (this run's own threads included)%n",
                loadAtEnd, cores);
        out.flush();
        return 0;
    }

    // ---- the models alone ------------------------------------------------------------------------------------

    /**
     * The models called directly on this thread, with the settings the jobs use: the prior on one prompt, the
     * decoder at batch 1 (what one job costs).
     */
    private final class DirectModels implements AutoCloseable {
        private final DallE2 dalle2;
        private final ImageEmbeddingModel embedder;
        private final ImageDecoderModel drawer;
        private final SamplingParams prior = new SamplingParams(priorSteps, 0f, priorGuidance);
        private final SamplingParams decoder = new SamplingParams(decoderSteps, 0f, decoderGuidance);
        private final List<EmbedTask> embedTasks = List.of(new EmbedTask("bench", 0, "a photo of a cat",
                NoiseStreams.seedFor(1, 0, EmbedTask.STAGE)));
        private final float[] embedding;

        DirectModels(Path modelDir) throws IOException {
            dalle2 = DallE2.load(modelDir);
            embedder = dalle2.embeddingModel();
            drawer = dalle2.decoderModel(Device.cpu());
            embedding = embedder.embed(prior, embedTasks, DdimSampler.Progress.NONE).get(0); // warm-up
        }

        /** On the threads a prior worker gives one job ({@link PriorWorker#threadsFor}). */
        void prior() {
            onThreads(PriorWorker.threadsFor(embedTasks.size()),
                    () -> embedder.embed(prior, embedTasks, DdimSampler.Progress.NONE));
        }

        List<DecodeTask> decodeTasks(int batch) {
            List<DecodeTask> tasks = new ArrayList<>();
            for (int k = 0; k < batch; k++) {
                tasks.add(new DecodeTask("bench", k, embedding, NoiseStreams.seedFor(1, k, DecodeTask.STAGE)));
            }
            return tasks;
        }

        /** The median of {@code --model-repeats} decodes of {@code batch} images, after an untimed one. */
        double decodeMillis(int batch) {
            List<DecodeTask> tasks = decodeTasks(batch);
            decode(tasks); // warm-up of this shape
            return median(modelRepeats, () -> decode(tasks));
        }

        /** On the threads a decoder worker gives this batch ({@link DecoderWorker#threadsFor}). */
        void decode(List<DecodeTask> tasks) {
            onThreads(DecoderWorker.threadsFor(tasks.size()),
                    () -> drawer.decode(decoder, tasks, DdimSampler.Progress.NONE));
        }

        private void onThreads(int wanted, Runnable call) {
            int all = DjlRuntime.intraOpThreads();
            DjlRuntime.setIntraOpThreadsOfCallingThread(Math.max(1, Math.min(wanted, all)));
            try {
                call.run();
            } finally {
                DjlRuntime.setIntraOpThreadsOfCallingThread(all);
            }
        }

        @Override
        public void close() {
            dalle2.close();
        }
    }

    private DirectModels modelAlone(Path modelDir) throws IOException {
        DirectModels direct = new DirectModels(modelDir);
        try {
            double priorMs = median(modelRepeats, direct::prior);
            out.printf(Locale.ROOT, "%nmodels alone (direct calls, same settings, median of %d, before the stack "
                    + "starts):%n", modelRepeats);
            out.printf(Locale.ROOT, "  prior (CLIP text + %d DDIM steps), 1 image     %9.1f ms%n", priorSteps, priorMs);
            figure("model.prior_ms", priorMs);
            // batch 1 always: the one-job overhead is measured against it
            for (int batch : Stream.concat(Stream.of(1), decoderBatches.stream()).distinct().sorted().toList()) {
                double ms = direct.decodeMillis(batch);
                out.printf(Locale.ROOT, "  decoder (%d DDIM steps), batch %-2d               %9.1f ms = %.2f images/s%n",
                        decoderSteps, batch, ms, batch * 1000.0 / ms);
                figure("model.decoder_b" + batch + "_ms", ms);
                figure("model.decoder_b" + batch + "_images_per_s", batch * 1000.0 / ms);
            }
        } catch (RuntimeException | Error e) {
            direct.close();
            throw e;
        }
        out.flush();
        return direct;
    }

    private static double median(int repeats, Runnable call) {
        List<Double> ms = new ArrayList<>();
        for (int i = 0; i < Math.max(1, repeats); i++) {
            long t0 = System.nanoTime();
            call.run();
            ms.add((System.nanoTime() - t0) / 1e6);
        }
        ms.sort(Double::compare);
        return ms.get(ms.size() / 2);
    }

    // ---- the pipeline ----------------------------------------------------------------------------------------

    /** Workers with this decoder max batch: warm-up jobs, the one-job runs (when asked), then the burst. */
    private String pipeline(EmbeddedStack stack, ObjectStore.Config storage, ModelProvider provider,
                            StatusRecorder recorder, DirectModels direct, int maxBatch, boolean single)
            throws Exception {
        if (maxBatch < 1) {
            throw new IllegalArgumentException("--decoder-batches must be >= 1, got " + maxBatch);
        }
        PipelineServices.Settings settings = new PipelineServices.Settings(stack.kafkaBootstrap(), storage,
                "127.0.0.1", -1, 1, 1, DeviceChoice.CPU, priorMaxBatch, maxBatch, Duration.ofMillis(20));
        String base = stack.gatewayUrl();
        String singleId = null;
        try (PipelineServices workers = PipelineServices.start(settings, provider)) {
            awaitPartitions(workers);
            StatusView gatewayView = stack.services().gateway().verticle().statusView();
            for (int i = 0; i < Math.max(1, warmUpJobs); i++) {
                run(base, gatewayView, recorder, 1, 1_000_000 + i, "warm-up");
            }
            if (single) {
                singleId = singleJobs(base, gatewayView, recorder, workers, direct, maxBatch);
            }
            DecoderWorker decoder = workers.decoderWorkers().get(0);
            for (int i = 0; i < warmUpBursts; i++) {
                run(base, gatewayView, recorder, burst, 3_000_000 + 100_000L * i + 1000L * maxBatch, "warm-up burst");
            }
            StageWorker.Stats before = decoder.stats();
            double modelBefore = decoder.batchStats().snapshot().modelSeconds();
            long compileBefore = compileMillis();
            ThreadCpuByName cpuBefore = ThreadCpuByName.now();
            List<Timeline> jobs = run(base, gatewayView, recorder, burst, 2_000_000 + 1000L * maxBatch, "burst");
            ThreadCpuByName.Window cpu = ThreadCpuByName.now().since(cpuBefore);
            StageWorker.Stats after = decoder.stats();
            BurstFigures figures = new BurstFigures(after.images() - before.images(),
                    after.batches() - before.batches(), decoder.batchStats().snapshot().modelSeconds() - modelBefore,
                    compiledSince(compileBefore), cpu);
            // the same calls right after the burst, the stack idle: with the JIT's and the idle stack's load the
            // burst had, unlike the figure taken before the stack started
            double aloneAfterMs = direct.decodeMillis(maxBatch);
            // the prior hands embeddings over a few at a time, so the worker's batches can be smaller than its max
            int meanBatch = figures.meanBatchRounded(maxBatch);
            double aloneAtMeanMs = meanBatch == maxBatch ? aloneAfterMs : direct.decodeMillis(meanBatch);
            report("burst of " + jobs.size() + " jobs (n=1), decoder max batch " + maxBatch, "burst.b" + maxBatch + ".",
                    jobs, maxBatch, figures, aloneAfterMs, meanBatch, meanBatch * 1000.0 / aloneAtMeanMs, null);
        }
        if (backlog) {
            backlogBurst(stack, settings, provider, recorder, direct, maxBatch);
        }
        return singleId;
    }

    /**
     * A burst whose embeddings are all on the decoder's topic before a decoder worker starts: the jobs go through
     * a prior worker alone, then a decoder worker (its model warmed up on this burst's batch shapes first) joins
     * the group and works the backlog off, as when a decoder pool is scaled up under a queue.
     */
    private void backlogBurst(EmbeddedStack stack, PipelineServices.Settings settings, ModelProvider provider,
                              StatusRecorder recorder, DirectModels direct, int maxBatch) throws Exception {
        PipelineServices.Settings priorOnly = new PipelineServices.Settings(settings.bootstrap(), settings.storage(),
                settings.host(), -1, 1, 0, settings.device(), settings.priorMaxBatch(), maxBatch, settings.maxWait());
        StageWorker.Config decoderConfig = PipelineServices.workerConfig(settings.bootstrap(), "decoder-0", maxBatch,
                settings.maxWait());
        StatusView gatewayView = stack.services().gateway().verticle().statusView();
        BacklogCalls calls = BacklogCalls.of(burst, maxBatch);
        try (PipelineServices prior = PipelineServices.start(priorOnly, provider)) {
            awaitPartitions(prior);
            List<DecoderWorker> started = new ArrayList<>();
            long[] compileBefore = new long[1];
            double[] sameCallsBeforeMs = new double[1];
            ThreadCpuByName[] cpuBefore = new ThreadCpuByName[1];
            try {
                List<Timeline> jobs = run(stack.gatewayUrl(), gatewayView, recorder, burst,
                        5_000_000 + 1000L * maxBatch, "backlog burst", ids -> {
                            awaitPriorFinished(recorder, ids);
                            ImageDecoderModel model = provider.decoderModel(settings.device().resolve());
                            warmUp(model, direct, calls);
                            // the baseline drifts on this machine: taken right before and right after the worker
                            sameCallsBeforeMs[0] = calls.millis(direct::decodeMillis);
                            compileBefore[0] = compileMillis();
                            cpuBefore[0] = ThreadCpuByName.now();
                            started.add(PipelineServices.startDecoderWorker(decoderConfig, settings.storage(), model));
                        });
                ThreadCpuByName.Window cpu = ThreadCpuByName.now().since(cpuBefore[0]);
                DecoderWorker decoder = started.get(0);
                StageWorker.Stats stats = decoder.stats();
                BurstFigures figures = new BurstFigures(stats.images(), stats.batches(),
                        decoder.batchStats().snapshot().modelSeconds(), compiledSince(compileBefore[0]), cpu);
                ThreadCpuByName aloneCpuBefore = ThreadCpuByName.now();
                double aloneAfterMs = direct.decodeMillis(maxBatch);
                double aloneCores = ThreadCpuByName.now().since(aloneCpuBefore).allCores();
                int meanBatch = figures.meanBatchRounded(maxBatch);
                double aloneAtMeanMs = meanBatch == maxBatch ? aloneAfterMs : direct.decodeMillis(meanBatch);
                SameCalls sameCalls = null;
                if (figures.batches() == calls.count()) {
                    double afterMs = calls.millis(batch -> batch == maxBatch ? aloneAfterMs : direct.decodeMillis(batch));
                    sameCalls = new SameCalls(calls, burst * 1000.0 / sameCallsBeforeMs[0], burst * 1000.0 / afterMs);
                }
                // the worker joined after the prior's last job: what makes this a backlog
                Instant lastPriorDone = jobs.stream().map(Timeline::priorFinished).max(Comparator.naturalOrder())
                        .orElseThrow();
                Instant firstDecoderStart = jobs.stream().map(Timeline::decoderStarted).min(Comparator.naturalOrder())
                        .orElseThrow();
                double queuedMs = Timeline.ms(lastPriorDone, firstDecoderStart);
                report("backlog burst of " + jobs.size() + " jobs (n=1), decoder max batch " + maxBatch
                                + ": every embedding queued before the decoder worker started",
                        "backlog.b" + maxBatch + ".", jobs, maxBatch, figures, aloneAfterMs, meanBatch,
                        meanBatch * 1000.0 / aloneAtMeanMs, sameCalls);
                out.printf(Locale.ROOT, "  the decoder worker took its first job %.0f ms after the prior finished its "
                        + "last%s%n", queuedMs, sameCalls != null ? "" : "; its " + figures.batches() + " calls were not "
                        + "the backlog's " + calls.describe() + " (records reached it in parts), so no same-calls figure");
                figure("backlog.b" + maxBatch + ".first_decoder_start_after_last_prior_ms", queuedMs);
                if (aloneCores > 0) {
                    // how many cores a call at this batch keeps busy at best: the worker's threads can use no more
                    out.printf(Locale.ROOT, "  while the decoder alone ran at batch %d right after, this process used "
                            + "%.2f cores%n", maxBatch, aloneCores);
                    figure("backlog.b" + maxBatch + ".decoder_alone_cpu_cores", aloneCores);
                }
            } finally {
                for (DecoderWorker worker : started) {
                    worker.close();
                }
            }
        }
    }

    /**
     * The decoder calls a backlog of {@code jobs} one-image jobs is worked off in: {@code full} batches of
     * {@code maxBatch} and, when it does not divide, one of {@code rest}.
     */
    private record BacklogCalls(int maxBatch, int full, int rest) {

        static BacklogCalls of(int jobs, int maxBatch) {
            return new BacklogCalls(maxBatch, jobs / maxBatch, jobs % maxBatch);
        }

        int count() {
            return full + (rest > 0 ? 1 : 0);
        }

        /** The batch sizes among these calls, each once. */
        List<Integer> sizes() {
            List<Integer> sizes = new ArrayList<>();
            if (full > 0) {
                sizes.add(maxBatch);
            }
            if (rest > 0) {
                sizes.add(rest);
            }
            return sizes;
        }

        /** The time of all these calls from the time of one call of each size (asked once per size). */
        double millis(IntToDoubleFunction millisOfBatch) {
            return (full > 0 ? full * millisOfBatch.applyAsDouble(maxBatch) : 0)
                    + (rest > 0 ? millisOfBatch.applyAsDouble(rest) : 0);
        }

        /** "6 of batch 8 and one of 2". */
        String describe() {
            return full == 0 ? "one of batch " + rest
                    : full + " of batch " + maxBatch + (rest > 0 ? " and one of " + rest : "");
        }
    }

    /** The decoder alone on a backlog's calls, in images per second, right before and right after the worker ran them. */
    private record SameCalls(BacklogCalls calls, double beforePerSecond, double afterPerSecond) {
    }

    /** Runs each batch size of a backlog's calls once on {@code model}, on the threads the worker gives it. */
    private void warmUp(ImageDecoderModel model, DirectModels direct, BacklogCalls calls) {
        for (int batch : calls.sizes()) {
            List<DecodeTask> tasks = direct.decodeTasks(batch);
            direct.onThreads(DecoderWorker.threadsFor(batch),
                    () -> model.decode(new SamplingParams(decoderSteps, 0f, decoderGuidance), tasks,
                            DdimSampler.Progress.NONE));
        }
    }

    /** Waits until the prior has finished every job of {@code ids} (their status records say so). */
    private void awaitPriorFinished(StatusRecorder recorder, List<String> ids) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        for (String id : ids) {
            while (recorder.records(id).stream().noneMatch(s -> s.timestamps() != null
                    && s.timestamps().priorFinishedAt() != null)) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("backlog burst: the prior did not finish job " + id + " within "
                            + timeout);
                }
                Thread.sleep(10);
            }
        }
    }

    /**
     * {@code --singles} jobs one after another on the idle pipeline; each stage's median, and the workers' own
     * model-call times (their {@link dalle2.pipeline.BatchStats}) to tell the model running slower inside the stack
     * from the time around it. Returns the id of the last job.
     */
    private String singleJobs(String base, StatusView gatewayView, StatusRecorder recorder, PipelineServices workers,
                              DirectModels direct, int maxBatch) throws Exception {
        StageWorker<?, ?, ?, ?> prior = workers.priorWorkers().get(0);
        StageWorker<?, ?, ?, ?> decoder = workers.decoderWorkers().get(0);
        List<Timeline> timelines = new ArrayList<>();
        List<Double> priorCalls = new ArrayList<>();
        List<Double> decoderCalls = new ArrayList<>();
        List<Double> priorDirect = new ArrayList<>();
        List<Double> decoderDirect = new ArrayList<>();
        List<DecodeTask> oneImage = direct.decodeTasks(1);
        long compileBefore = compileMillis();
        for (int i = 0; i < Math.max(1, singles); i++) {
            // the models alone right before each job: on a shared machine both then see about the same load
            priorDirect.add(median(1, direct::prior));
            decoderDirect.add(median(1, () -> direct.decode(oneImage)));
            double priorBefore = prior.batchStats().snapshot().modelSeconds();
            double decoderBefore = decoder.batchStats().snapshot().modelSeconds();
            timelines.add(run(base, gatewayView, recorder, 1, 10L * i, "single").get(0));
            priorCalls.add(1000 * (prior.batchStats().snapshot().modelSeconds() - priorBefore));
            decoderCalls.add(1000 * (decoder.batchStats().snapshot().modelSeconds() - decoderBefore));
        }
        long compiledMs = compiledSince(compileBefore);
        double priorAlone = median(priorDirect);
        double decoderAlone = median(decoderDirect);
        double modelMs = priorAlone + decoderAlone;
        figure("single.prior_direct_ms", priorAlone);
        figure("single.decoder_direct_ms", decoderAlone);
        double e2eClient = median(timelines.stream().map(t -> Timeline.ms(t.clientSubmit(), t.visible())).toList());
        out.printf(Locale.ROOT, "%none job at a time, idle pipeline (decoder max batch %d; median of %d jobs):%n",
                maxBatch, timelines.size());
        for (Stage s : STAGES) {
            double ms = median(timelines.stream().map(t -> s.ms().applyAsDouble(t)).toList());
            out.printf(Locale.ROOT, "  %-50s %9.1f ms%n", s.label(), ms);
            figure("single." + s.key() + "_ms", ms);
            if (s.key().equals("prior") || s.key().equals("decoder")) {
                boolean isPrior = s.key().equals("prior");
                double call = median(isPrior ? priorCalls : decoderCalls);
                double alone = isPrior ? priorAlone : decoderAlone;
                out.printf(Locale.ROOT, "    %-48s %9.1f ms (alone %.1f)%n", "of which the model call in the worker",
                        call, alone);
                figure("single." + s.key() + "_model_call_ms", call);
            }
        }
        double overhead = e2eClient - modelMs;
        out.printf(Locale.ROOT, "  %-50s %9.1f ms%n", "end to end at the client (POST sent -> visible)", e2eClient);
        out.printf(Locale.ROOT, "  %-50s %9.1f ms%n", "model time (prior + decoder batch 1, direct*)", modelMs);
        out.printf(Locale.ROOT, "  pipeline overhead = end to end - model time = %.1f - %.1f = %.1f ms (%.0f%% of end "
                + "to end)%n", e2eClient, modelMs, overhead, 100 * overhead / e2eClient);
        out.printf(Locale.ROOT, "  * called directly on the bench's thread right before each job (the stack idle), "
                + "median%n");
        if (compiledMs >= 0) {
            out.printf(Locale.ROOT, "  JIT compilation during these jobs: %d ms of compiler-thread time%n", compiledMs);
            figure("single.jit_compile_ms", compiledMs);
        }
        figure("single.e2e_client_ms", e2eClient);
        figure("single.model_ms", modelMs);
        figure("single.overhead_ms", overhead);
        out.flush();
        return timelines.get(timelines.size() - 1).jobId();
    }

    private static double median(List<Double> values) {
        List<Double> sorted = new ArrayList<>(values);
        sorted.sort(Double::compare);
        return sorted.get(sorted.size() / 2);
    }

    /**
     * What the decoder worker did during a burst, from its own counters, the JVM's compilation time and the CPU
     * each kind of thread of the process used meanwhile.
     */
    private record BurstFigures(long images, long batches, double modelSeconds, long compileMillis,
                                ThreadCpuByName.Window cpu) {

        /** Images per model call; 0 without calls. */
        double meanBatch() {
            return batches == 0 ? 0.0 : (double) images / batches;
        }

        /** The mean batch rounded to a batch size the decoder alone can be timed at; {@code maxBatch} without calls. */
        int meanBatchRounded(int maxBatch) {
            return batches == 0 ? maxBatch : (int) Math.max(1, Math.round(meanBatch()));
        }
    }

    /** Milliseconds the JIT compilers have spent so far (-1 where the JVM does not say). */
    private static long compileMillis() {
        java.lang.management.CompilationMXBean jit = java.lang.management.ManagementFactory.getCompilationMXBean();
        return jit != null && jit.isCompilationTimeMonitoringSupported() ? jit.getTotalCompilationTime() : -1;
    }

    /** Milliseconds the JIT compilers have spent since {@link #compileMillis} read {@code before} (-1: unknown). */
    private static long compiledSince(long before) {
        return before < 0 ? -1 : compileMillis() - before;
    }

    /** @param sameCalls the decoder alone on the burst's very calls; null: not known */
    private void report(String title, String p, List<Timeline> jobs, int maxBatch, BurstFigures burstFigures,
                        double aloneAfterMs, int meanBatch, double aloneAtMeanPerSecond, SameCalls sameCalls) {
        long images = burstFigures.images();
        long batches = burstFigures.batches();
        double modelSeconds = burstFigures.modelSeconds();
        out.printf(Locale.ROOT, "%n%s:%n", title);
        out.printf(Locale.ROOT, "  %-44s %9s %9s %9s%n", "stage", "p50 ms", "p95 ms", "max ms");
        for (Stage s : STAGES) {
            double[] v = jobs.stream().mapToDouble(s.ms()).sorted().toArray();
            out.printf(Locale.ROOT, "  %-44s %9.1f %9.1f %9.1f%n", s.label(), percentile(v, 50), percentile(v, 95),
                    v[v.length - 1]);
            figure(p + s.key() + "_p50_ms", percentile(v, 50));
            figure(p + s.key() + "_p95_ms", percentile(v, 95));
        }
        Instant firstSubmit = jobs.stream().map(Timeline::submitted).min(Comparator.naturalOrder()).orElseThrow();
        Instant firstDecode = jobs.stream().map(Timeline::decoderStarted).min(Comparator.naturalOrder()).orElseThrow();
        Instant lastDone = jobs.stream().map(Timeline::finished).max(Comparator.naturalOrder()).orElseThrow();
        double decoderSpan = Timeline.ms(firstDecode, lastDone);
        double makespan = Timeline.ms(firstSubmit, lastDone);
        double perSecond = jobs.size() * 1000.0 / decoderSpan;
        out.printf(Locale.ROOT, "  whole burst: %.0f ms from first submit to last image; decoder worker %.2f images/s "
                        + "(first decoder start -> last image), %d images in %d batches (mean %.2f)%n", makespan,
                perSecond, images, batches, burstFigures.meanBatch());
        out.printf(Locale.ROOT, "  the decoder's model calls took %.0f ms of those %.0f (%.0f%%): %.2f images per second of "
                + "model call%n", 1000 * modelSeconds, decoderSpan, 100_000 * modelSeconds / decoderSpan,
                images / Math.max(1e-9, modelSeconds));
        figure(p + "decoder_model_ms", 1000 * modelSeconds);
        Double aloneBefore = figures.get("model.decoder_b" + maxBatch + "_images_per_s");
        double aloneAfter = maxBatch * 1000.0 / aloneAfterMs;
        out.printf(Locale.ROOT, "  decoder alone at batch %d: %.2f images/s before the stack started, %.2f right after "
                        + "this burst (stack idle); the worker made %.2f and %.2f of those%n", maxBatch,
                aloneBefore == null ? Double.NaN : aloneBefore, aloneAfter,
                aloneBefore == null ? Double.NaN : perSecond / aloneBefore, perSecond / aloneAfter);
        if (meanBatch != maxBatch) {
            out.printf(Locale.ROOT, "  decoder alone at the burst's mean batch rounded (%d), right after it: %.2f "
                    + "images/s; the worker made %.2f of that%n", meanBatch, aloneAtMeanPerSecond,
                    perSecond / aloneAtMeanPerSecond);
        }
        if (sameCalls != null) {
            double before = sameCalls.beforePerSecond();
            double after = sameCalls.afterPerSecond();
            double mean = (before + after) / 2;
            out.printf(Locale.ROOT, "  decoder alone on the same calls (%s): %.2f images/s right before the worker "
                            + "started, %.2f right after; the worker made %.2f and %.2f of those, %.2f of their mean%n",
                    sameCalls.calls().describe(), before, after, perSecond / before, perSecond / after,
                    perSecond / mean);
            figure(p + "decoder_alone_same_calls_before_images_per_s", before);
            figure(p + "decoder_alone_same_calls_after_images_per_s", after);
            figure(p + "worker_over_alone_same_calls", perSecond / mean);
        }
        ThreadCpuByName.Window cpu = burstFigures.cpu();
        if (!cpu.seconds().isEmpty()) {
            List<String> busiest = cpu.seconds().keySet().stream().limit(6).toList();
            StringBuilder line = new StringBuilder();
            for (String kind : busiest) {
                line.append(String.format(Locale.ROOT, ", %s %.2f", kind, cpu.cores(kind)));
                figure(p + "cpu_cores." + kind, cpu.cores(kind));
            }
            out.printf(Locale.ROOT, "  CPU of this process meanwhile (%.1f s), in cores: all threads %.2f%s%n",
                    cpu.wallSeconds(), cpu.allCores(), line);
            figure(p + "cpu_cores_all", cpu.allCores());
        }
        figure(p + "decoder_alone_at_mean_batch_images_per_s", aloneAtMeanPerSecond);
        figure(p + "worker_over_alone_at_mean_batch", perSecond / aloneAtMeanPerSecond);
        figure(p + "decoder_alone_after_images_per_s", aloneAfter);
        figure(p + "worker_over_alone_after", perSecond / aloneAfter);
        if (burstFigures.compileMillis() >= 0) {
            out.printf(Locale.ROOT, "  JIT compilation during the burst: %d ms of compiler-thread time%n",
                    burstFigures.compileMillis());
            figure(p + "jit_compile_ms", burstFigures.compileMillis());
        }
        figure(p + "makespan_ms", makespan);
        figure(p + "decoder_images_per_s", perSecond);
        figure(p + "mean_decoder_batch", burstFigures.meanBatch());
        out.flush();
    }

    /** Nearest-rank percentile of sorted values. */
    static double percentile(double[] sorted, double p) {
        int rank = (int) Math.ceil(p / 100.0 * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length, rank) - 1)];
    }

    private static void awaitPartitions(PipelineServices workers) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (Stream.concat(workers.priorWorkers().stream(), workers.decoderWorkers().stream())
                .anyMatch(w -> w.assignedPartitions() == 0)) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the workers got no partitions within 60 s");
            }
            Thread.sleep(50);
        }
    }

    /**
     * Submits {@code count} jobs (seeds from {@code firstSeed}) and waits until the gateway's status view has taken
     * each one's {@code succeeded} status: that instant is when a GET first answers it, and no client polling
     * competes with the workers for the CPU meanwhile. One GET per job then checks what the API answers.
     */
    private List<Timeline> run(String base, StatusView gatewayView, StatusRecorder recorder, int count,
                               long firstSeed, String what) throws Exception {
        return run(base, gatewayView, recorder, count, firstSeed, what, ids -> { });
    }

    /** What a run does between submitting its jobs and waiting for them (given their ids). */
    private interface AfterSubmitting {
        void accept(List<String> ids) throws Exception;
    }

    private List<Timeline> run(String base, StatusView gatewayView, StatusRecorder recorder, int count,
                               long firstSeed, String what, AfterSubmitting afterSubmitting) throws Exception {
        Map<String, Instant> clientSubmit = new ConcurrentHashMap<>();
        Map<String, Instant> visible = new ConcurrentHashMap<>();
        Map<String, JobStatus> refused = new ConcurrentHashMap<>();
        long deadline = System.nanoTime() + timeout.toNanos();
        java.util.function.Consumer<JobStatus> watcher = status -> {
            if (status.state() == JobState.SUCCEEDED) {
                visible.putIfAbsent(status.jobId(), Instant.now());
            } else if (status.state() == JobState.FAILED || status.state() == JobState.CANCELLED) {
                refused.putIfAbsent(status.jobId(), status);
            }
            synchronized (visible) {
                visible.notifyAll();
            }
        };
        gatewayView.onApplied(watcher);
        try {
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                Map<String, Object> body = new LinkedHashMap<>();
                body.put("prompt", i % 2 == 0 ? "a photo of a cat" : "a red apple");
                body.put("n", 1);
                body.put("size", dalle2.messages.GenerationRequest.BASE_SIZE);
                body.put("seed", firstSeed + i);
                body.put("prior_steps", priorSteps);
                body.put("decoder_steps", decoderSteps);
                body.put("sampler", "ddim"); // both stages, as the models alone are timed
                body.put("prior_guidance", priorGuidance);
                body.put("decoder_guidance", decoderGuidance);
                Instant t0 = Instant.now();
                HttpResponse<String> r = post(base + "/v1/generations", Json.write(body));
                if (r.statusCode() != 202) {
                    throw new IllegalStateException(what + ": submission refused: " + r.statusCode() + " " + r.body());
                }
                String id = Json.mapper().readTree(r.body()).path("id").asText();
                clientSubmit.put(id, t0);
                ids.add(id);
            }
            afterSubmitting.accept(ids);
            synchronized (visible) {
                while (!visible.keySet().containsAll(ids)) {
                    for (String id : ids) {
                        JobStatus failed = refused.get(id);
                        if (failed != null) {
                            throw new IllegalStateException(what + ": job " + id + " " + failed.state().wire() + ": "
                                    + failed.error());
                        }
                    }
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        throw new IllegalStateException(what + ": " + ids.stream().filter(id -> !visible.containsKey(id))
                                .count() + " jobs not finished after " + timeout);
                    }
                    visible.wait(Math.max(1, Math.min(100, left / 1_000_000)));
                }
            }
            List<Timeline> timelines = new ArrayList<>();
            for (String id : ids) {
                JsonNode status = Json.mapper().readTree(get(base + "/v1/generations/" + id).body());
                if (!status.path("state").asText().equals(JobState.SUCCEEDED.wire())) {
                    throw new IllegalStateException(what + ": the gateway's view took " + id + " as succeeded but GET "
                            + "answers " + status);
                }
                timelines.add(timeline(recorder, id, clientSubmit.get(id), visible.get(id), deadline));
            }
            return timelines;
        } finally {
            gatewayView.removeListener(watcher);
        }
    }

    private static Timeline timeline(StatusRecorder recorder, String id, Instant clientSubmit, Instant visible,
                                     long deadline) throws InterruptedException {
        while (true) {
            List<JobStatus> records = recorder.records(id);
            JobStatus last = records.stream().filter(s -> s.state() == JobState.SUCCEEDED).findFirst().orElse(null);
            // the decoder's progress record at its last step: updated_at = when the last U-Net step finished
            JobStatus decoded = records.stream().filter(s -> s.state() == JobState.DECODING && s.progress() != null
                            && s.progress().stage().equals(DecodeTask.STAGE) && s.progress().step() >= s.progress().steps())
                    .findFirst().orElse(null);
            if (last != null && decoded != null) {
                JobStatus.Timestamps ts = last.timestamps();
                return new Timeline(id, clientSubmit, Instant.parse(ts.submittedAt()), Instant.parse(ts.priorStartedAt()),
                        Instant.parse(ts.priorFinishedAt()), Instant.parse(ts.decoderStartedAt()),
                        Instant.parse(decoded.timestamps().updatedAt()), Instant.parse(ts.finishedAt()), visible);
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the status records of " + id + " did not arrive");
            }
            Thread.sleep(10);
        }
    }

    // ---- the gateway alone -----------------------------------------------------------------------------------

    private void gatewayLoops(String base, String jobId) throws Exception {
        String statusUrl = base + "/v1/generations/" + jobId;
        String body = Json.write(Map.of("prompt", "a photo of a cat", "n", 1, "prior_steps", priorSteps,
                "decoder_steps", decoderSteps, "sampler", "ddim"));
        loop(Math.min(50, polls), () -> get(statusUrl), 200); // warm-up
        double[] poll = loop(polls, () -> get(statusUrl), 200);
        // no workers run now: these jobs stay queued in Kafka, each POST is still a durable (acks=all) write
        double[] submit = loop(submits, () -> post(base + "/v1/generations", body), 202);
        out.printf(Locale.ROOT, "%ngateway on loopback (%d concurrent clients, HTTP/1.1 keep-alive):%n", httpClients);
        out.printf(Locale.ROOT, "  polls   (GET status)      %5.0f requests in %6.2f s = %8.1f /s, latency p50 %.2f ms, "
                + "p99 %.2f ms%n", poll[0], poll[1], poll[0] / poll[1], poll[2], poll[3]);
        out.printf(Locale.ROOT, "  submits (POST, durable)   %5.0f requests in %6.2f s = %8.1f /s, latency p50 %.2f ms, "
                + "p99 %.2f ms%n", submit[0], submit[1], submit[0] / submit[1], submit[2], submit[3]);
        figure("gateway.polls_per_s", poll[0] / poll[1]);
        figure("gateway.poll_p50_ms", poll[2]);
        figure("gateway.submits_per_s", submit[0] / submit[1]);
        figure("gateway.submit_p50_ms", submit[2]);
        out.flush();
    }

    /** {requests done, seconds, p50 ms, p99 ms}: up to {@code total} requests, bounded by {@code --http-limit}. */
    private double[] loop(int total, Callable<HttpResponse<String>> request, int expected) throws Exception {
        AtomicInteger next = new AtomicInteger();
        long deadline = System.nanoTime() + httpLimit.toNanos();
        List<Double> latencies = java.util.Collections.synchronizedList(new ArrayList<>());
        ExecutorService clients = Executors.newFixedThreadPool(Math.max(1, httpClients));
        long t0 = System.nanoTime();
        try {
            List<Future<?>> running = new ArrayList<>();
            for (int c = 0; c < Math.max(1, httpClients); c++) {
                running.add(clients.submit(() -> {
                    while (next.getAndIncrement() < total && System.nanoTime() < deadline) {
                        long s = System.nanoTime();
                        HttpResponse<String> r = request.call();
                        if (r.statusCode() != expected) {
                            throw new IllegalStateException("HTTP " + r.statusCode() + ": " + r.body());
                        }
                        latencies.add((System.nanoTime() - s) / 1e6);
                    }
                    return null;
                }));
            }
            for (Future<?> f : running) {
                f.get();
            }
        } finally {
            clients.shutdownNow();
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        double[] sorted = latencies.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        if (sorted.length == 0) {
            throw new IllegalStateException("no request finished within " + httpLimit);
        }
        return new double[] {sorted.length, seconds, percentile(sorted, 50), percentile(sorted, 99)};
    }

    private HttpResponse<String> get(String url) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> post(String url, String json) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    // ---- helpers ---------------------------------------------------------------------------------------------

    private void figure(String name, double value) {
        figures.put(name, value);
    }


    private void warnIfBusy(double load, int cores) {
        if (load > cores) {
            out.printf(Locale.ROOT, "WARNING: the 1-min load average %.2f is above the %d cores: another job is using "
                    + "the CPU, so these figures are inflated (upper bounds; re-measure on an idle machine)%n", load, cores);
        }
    }

    private static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
