package dalle2.cli;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import com.fasterxml.jackson.databind.JsonNode;
import dalle2.cli.bench.FlopCounter;
import dalle2.cli.bench.Measurements;
import dalle2.cli.bench.TorchReference;
import dalle2.djl.DjlRuntime;
import dalle2.models.Decoder;
import dalle2.models.DecoderConfig;
import dalle2.models.Prior;
import dalle2.models.PriorConfig;
import dalle2.sampling.DdimSampler;
import dalle2.sampling.Denoiser;
import dalle2.training.AdamW;
import dalle2.training.Ema;
import dalle2.training.GradientClipping;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code dalle2 bench}: one prior and one decoder evaluation (as the product runs it, one compiled TorchScript
 * call, and op by op from Java), full DDIM sampling and one decoder training step, each timed in Java and —
 * interleaved with it, row by row — in the PyTorch eager twin of the same networks
 * ({@code bench/torch_reference.py}, the same weights), printed as Java ÷ PyTorch time ratios, next to the
 * matrix-multiply peak of this machine measured in the same run.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Time the prior and the decoder (network evaluations, full DDIM sampling, a training step) "
                + "against their PyTorch eager twin.")
public final class BenchCommand implements Callable<Integer> {

    @Option(names = "--models", defaultValue = "trained_models",
            description = "model folder whose prior/ and decoder/ are timed; missing ones fall back to fresh "
                    + "networks of the defaults of dalle2 train (default: ${DEFAULT-VALUE})")
    Path models;

    @Option(names = "--batches", split = ",", defaultValue = "1,4,16", description = "batch sizes (default: ${DEFAULT-VALUE})")
    List<Integer> batches;

    @Option(names = "--sampling-batches", defaultValue = "1,4,16",
            description = "comma-separated batch sizes of the full-sampling rows (default: ${DEFAULT-VALUE}); "
                    + "empty to skip")
    String samplingBatchList;

    @Option(names = "--sampling-runs", defaultValue = "2",
            description = "timed runs of each full-sampling row after one warm-up run; the fastest is shown "
                    + "(default: ${DEFAULT-VALUE})")
    int samplingRuns;

    @Option(names = "--repeats", defaultValue = "7", description = "timed evaluations per figure; the median is shown")
    int repeats;

    @Option(names = "--rounds", defaultValue = "3",
            description = "Java/PyTorch alternations per network row; the median of each side is shown")
    int rounds;

    @Option(names = "--prior-steps", defaultValue = "64") int priorSteps;
    @Option(names = "--decoder-steps", defaultValue = "50") int decoderSteps;
    @Option(names = "--guidance", defaultValue = "3.0", description = "guidance of the sampling runs (doubles the batch)")
    float guidance;

    @Option(names = "--train-batch", defaultValue = "32",
            description = "batch of the decoder training-step row, the shipped recipe's (default: ${DEFAULT-VALUE}); 0 skips it")
    int trainBatch;

    @Option(names = "--torch", defaultValue = "/usr/bin/python3",
            description = "Python with torch for the PyTorch eager twin (default: ${DEFAULT-VALUE}); 'none' to time Java only")
    String python;

    private static final int WARM_UP_EVALUATIONS = 50;

    @Spec
    CommandSpec spec;

    private TorchReference torch;

    @Override
    public Integer call() throws Exception {
        List<Integer> samplingBatches = samplingBatches();
        if (samplingRuns < 1) {
            throw new ParameterException(spec.commandLine(), "--sampling-runs must be at least 1, got " + samplingRuns);
        }
        DjlRuntime.configure();
        Path dir = ModelFactory.resolve(models);
        int threads = Integer.parseInt(System.getProperty(DjlRuntime.NUM_THREADS));
        try (NDManager manager = DjlRuntime.newManager()) {
            Prior prior = Files.isRegularFile(dir.resolve("prior/" + Prior.WEIGHTS_FILE))
                    ? Prior.load(dir.resolve("prior"), manager)
                    : Prior.create(PriorConfig.of(256, 256, 4, 4), manager);
            Decoder decoder = Files.isRegularFile(dir.resolve("decoder/" + Decoder.WEIGHTS_FILE))
                    ? Decoder.load(dir.resolve("decoder"), manager)
                    : Decoder.create(DecoderConfig.of(32, 32, List.of(1, 2, 2), 1, List.of(8)).withConditionDim(256),
                    manager);
            double peak = Measurements.matmulPeakGflops(manager, 2048, 5);
            System.out.printf(Locale.ROOT, "machine: %d cores, libtorch threads %d; fp32 matmul 2048^2 peak %.1f GFLOP/s; "
                            + "load average %s%n", Runtime.getRuntime().availableProcessors(), threads, peak,
                    String.format(Locale.ROOT, "%.2f", Measurements.loadAverage()));
            startTorch(dir, threads);

            PriorConfig priorConfig = prior.config();
            DecoderConfig decoderConfig = decoder.config();
            int dim = priorConfig.embeddingDim();
            networkRows("prior", priorConfig.width() + "w x " + priorConfig.depth() + " layers, " + dim + "-d",
                    FlopCounter.perSample(prior.network()), new Shape(dim), dim, prior, manager, peak);
            networkRows("decoder", decoderConfig.imageSize() + "px base " + decoderConfig.baseChannels() + " "
                            + decoderConfig.channelMultipliers(), FlopCounter.perSample(decoder.block()),
                    decoder.imageShape(), decoderConfig.conditionDim(), decoder, manager, peak);
            samplingRows(samplingBatches, prior, decoder, manager);
            if (trainBatch > 0) {
                trainingRow(decoder, manager);
            }
            System.out.printf(Locale.ROOT, "%npeak RSS %.0f MiB; load average %s%n", Measurements.peakRssMib(),
                    String.format(Locale.ROOT, "%.2f", Measurements.loadAverage()));
        } finally {
            if (torch != null) {
                torch.close();
            }
        }
        return 0;
    }

    private void startTorch(Path dir, int threads) {
        if ("none".equals(python)) {
            System.out.println("PyTorch twin: off (--torch none)");
            return;
        }
        Path home = Path.of(System.getProperty("dalle2.home", "."));
        try {
            torch = TorchReference.start(python, home, dir.toAbsolutePath(), threads);
            System.out.println("PyTorch twin: " + torch.version() + " (" + TorchReference.SCRIPT + ")");
        } catch (IOException e) {
            System.out.println("PyTorch twin unavailable, Java figures only: " + e.getMessage());
        }
    }

    private void networkRows(String name, String shape, double flopsPerSample, Shape sampleShape, int conditionDim,
                             Denoiser network, NDManager manager, double peak) throws IOException {
        System.out.printf(Locale.ROOT, "%n%s (%s): %.3f GFLOP per sample (conv + linear)%n", name, shape,
                flopsPerSample / 1e9);
        warmUp(network, sampleShape, conditionDim, manager, true);
        warmUp(network, sampleShape, conditionDim, manager, false);
        for (int batch : batches) {
            List<Double> java = new ArrayList<>();
            List<Double> opByOp = new ArrayList<>();
            List<Double> eager = new ArrayList<>();
            float[] javaOutput = null;
            JsonNode torchOutput = null;
            for (int round = 0; round < rounds; round++) {
                Evaluations scripted = evaluations(network, batch, sampleShape, conditionDim, manager, true);
                java.add(scripted.medianMillis());
                javaOutput = scripted.lastOutput();
                opByOp.add(evaluations(network, batch, sampleShape, conditionDim, manager, false).medianMillis());
                if (torch != null) {
                    JsonNode answer = torch.call(command("forward", "model", name, "batch", batch, "repeats", repeats));
                    eager.add(answer.get("ms").asDouble());
                    torchOutput = answer.get("output");
                }
            }
            double ms = median(java);
            double opByOpMs = median(opByOp);
            double gflops = flopsPerSample * batch / (ms / 1e3) / 1e9;
            System.out.printf(Locale.ROOT, "  batch %2d: %8.2f ms per evaluation (%.2f ms per sample), %6.1f GFLOP/s"
                    + " = %2.0f%% of the matmul peak; op by op %8.2f ms%s%n", batch, ms, ms / batch, gflops,
                    100 * gflops / peak, opByOpMs,
                    eager.isEmpty() ? "" : String.format(Locale.ROOT, "; PyTorch %8.2f ms, Java/PyTorch %.2f"
                            + " (op by op %.2f; max |Δ| of the outputs %.1e)", median(eager), ms / median(eager),
                            opByOpMs / median(eager), maxAbsDifference(javaOutput, torchOutput)));
        }
    }

    /** A row's timed evaluations: their median, and the last one's first sample for the comparison with the twin. */
    private record Evaluations(double medianMillis, float[] lastOutput) {
    }

    /**
     * {@link #repeats} evaluations after two untimed ones, as one compiled TorchScript call ({@code scripted},
     * what the product runs) or op by op from Java ({@link DjlRuntime#SCRIPTED_FORWARD}).
     */
    private Evaluations evaluations(Denoiser network, int batch, Shape sampleShape, int conditionDim,
                                    NDManager manager, boolean scripted) {
        return withForward(scripted, () -> {
            List<Double> millis = new ArrayList<>();
            float[] output = null;
            for (int i = 0; i < repeats + 2; i++) {
                // the inputs are made in the evaluation's own manager because every intermediate array goes
                // to the manager of the input: freed after each evaluation, as a sampling step frees its own
                try (NDManager step = manager.newSubManager()) {
                    NDArray[] inputs = fixedInputs(step, batch, sampleShape, conditionDim);
                    long t0 = System.nanoTime();
                    float[] values = firstSampleOfPrediction(network, inputs);
                    if (i >= 2) { // two warm-up evaluations
                        millis.add((System.nanoTime() - t0) / 1e6);
                    }
                    output = values;
                }
            }
            return new Evaluations(median(millis), output);
        });
    }

    /** Runs {@code work} with every network's forward pass scripted or op by op. */
    private static <T> T withForward(boolean scripted, java.util.function.Supplier<T> work) {
        String was = System.getProperty(DjlRuntime.SCRIPTED_FORWARD);
        System.setProperty(DjlRuntime.SCRIPTED_FORWARD, Boolean.toString(scripted));
        try {
            return work.get();
        } finally {
            if (was == null) {
                System.clearProperty(DjlRuntime.SCRIPTED_FORWARD);
            } else {
                System.setProperty(DjlRuntime.SCRIPTED_FORWARD, was);
            }
        }
    }

    /**
     * Evaluations at batch 1 before anything is timed, so that the JIT has compiled the Java side of the ops (a
     * forward is hundreds of DJL calls) as it has in a worker that served a few jobs: with two warm-up
     * evaluations only, the first row read up to three times its steady time.
     */
    private static void warmUp(Denoiser network, Shape sampleShape, int conditionDim, NDManager manager,
                               boolean scripted) {
        withForward(scripted, () -> {
            for (int i = 0; i < WARM_UP_EVALUATIONS; i++) {
                try (NDManager step = manager.newSubManager()) {
                    firstSampleOfPrediction(network, fixedInputs(step, 1, sampleShape, conditionDim));
                }
            }
            return null;
        });
    }

    /** One evaluation with autograd off; reading the first sample's values waits for the result. */
    private static float[] firstSampleOfPrediction(Denoiser network, NDArray[] inputs) {
        return DjlRuntime.withoutGradients(() -> network.predict(inputs[0], inputs[1], inputs[2], inputs[3]))
                .get(0).toFloatArray();
    }

    /** The twin builds the same inputs: sin and cos of the flat index, t = 500, every condition kept. */
    private static NDArray[] fixedInputs(NDManager scope, int batch, Shape sampleShape, int conditionDim) {
        Shape xShape = new Shape(batch).addAll(sampleShape);
        NDArray x = scope.arange(0f, (float) xShape.size(), 1f).mul(0.37f).sin().reshape(xShape);
        NDArray condition = scope.arange(0f, (float) batch * conditionDim, 1f).mul(0.11f).cos()
                .reshape(batch, conditionDim);
        return new NDArray[] {x, scope.full(new Shape(batch), 500L), condition, scope.ones(new Shape(batch))};
    }

    /** The {@code --sampling-batches} sizes; an empty value is a valid choice (no sampling rows). */
    private List<Integer> samplingBatches() {
        List<Integer> sizes = new ArrayList<>();
        for (String part : samplingBatchList.split(",")) {
            if (part.isBlank()) {
                continue;
            }
            try {
                int size = Integer.parseInt(part.strip());
                if (size < 1) {
                    throw new NumberFormatException();
                }
                sizes.add(size);
            } catch (NumberFormatException e) {
                throw new ParameterException(spec.commandLine(), "--sampling-batches: '" + part
                        + "' is not a batch size (a positive integer)");
            }
        }
        return sizes;
    }

    /** Timings in seconds of one sampling run, one per figure of a row. */
    @FunctionalInterface
    private interface SamplingRun {
        double[] seconds() throws IOException;
    }

    /**
     * Each figure's fastest of {@link #samplingRuns} runs after one untimed run: the JIT compiles the per-op Java
     * code during the first, and a worker that has served a few jobs runs as the later ones do. Java and the twin
     * are timed the same way.
     */
    private double[] fastestAfterWarmUp(SamplingRun run) throws IOException {
        run.seconds();
        double[] fastest = run.seconds();
        for (int i = 1; i < samplingRuns; i++) {
            double[] seconds = run.seconds();
            for (int k = 0; k < fastest.length; k++) {
                fastest[k] = Math.min(fastest[k], seconds[k]);
            }
        }
        return fastest;
    }

    private void samplingRows(List<Integer> samplingBatches, Prior prior, Decoder decoder, NDManager manager)
            throws IOException {
        if (samplingBatches.isEmpty()) {
            return;
        }
        System.out.println();
        System.out.println("full DDIM sampling, the fastest of " + samplingRuns + " after a warm-up run (eta 0, guidance "
                + guidance + "; prior " + priorSteps
                + " steps, decoder " + decoderSteps + " steps):");
        int dim = prior.config().embeddingDim();
        for (int batch : samplingBatches) {
            long[] seeds = new long[batch];
            Arrays.setAll(seeds, i -> i);
            double[] javaSeconds = fastestAfterWarmUp(() -> {
                try (NDManager scope = manager.newSubManager()) {
                    NDArray text = scope.randomNormal(new Shape(batch, dim)).normalize(2, 1, 1e-12);
                    long t0 = System.nanoTime();
                    prior.sample(text, priorSteps, 0f, guidance, seeds).toFloatArray();
                    double priorRun = (System.nanoTime() - t0) / 1e9;
                    NDArray embeddings = scope.randomNormal(new Shape(batch, decoder.config().conditionDim()))
                            .normalize(2, 1, 1e-12);
                    t0 = System.nanoTime();
                    decoder.sample(embeddings, decoderSteps, 0f, guidance, seeds, DdimSampler.Progress.NONE)
                            .toFloatArray();
                    return new double[] {priorRun, (System.nanoTime() - t0) / 1e9};
                }
            });
            double priorSeconds = javaSeconds[0];
            double decoderSeconds = javaSeconds[1];
            String line = String.format(Locale.ROOT, "  batch %2d: prior %.2f s (%.1f embeddings/s), decoder %.2f s"
                    + " (%.2f images/s)", batch, priorSeconds, batch / priorSeconds, decoderSeconds,
                    batch / decoderSeconds);
            if (torch != null) {
                double[] torchSeconds = fastestAfterWarmUp(() -> new double[] {
                    torch.call(command("sample", "model", "prior", "batch", batch, "steps", priorSteps,
                            "guidance", guidance)).get("s").asDouble(),
                    torch.call(command("sample", "model", "decoder", "batch", batch, "steps", decoderSteps,
                            "guidance", guidance)).get("s").asDouble()});
                double torchPrior = torchSeconds[0];
                double torchDecoder = torchSeconds[1];
                line += String.format(Locale.ROOT, "; PyTorch prior %.2f s, decoder %.2f s; Java/PyTorch prior %.2f,"
                        + " decoder %.2f", torchPrior, torchDecoder, priorSeconds / torchPrior,
                        decoderSeconds / torchDecoder);
            }
            System.out.println(line);
        }
    }

    /** One step of the shipped decoder recipe: noising, forward, MSE, backward, clipping, AdamW, EMA. */
    private void trainingRow(Decoder served, NDManager manager) throws IOException {
        int steps = Math.max(3, repeats / 2);
        List<Double> millis = new ArrayList<>();
        try (NDManager scope = manager.newSubManager()) {
            Decoder decoder = Decoder.create(served.config(), scope, 1);
            AdamW optimizer = AdamW.withWeightDecay(0.01f);
            Ema ema = new Ema(decoder.block(), 0.999f);
            int size = served.config().imageSize();
            Shape imageShape = new Shape(trainBatch, served.config().imageChannels(), size, size);
            Shape embeddingShape = new Shape(trainBatch, served.config().conditionDim());
            float[] imageValues = scope.randomUniform(-1f, 1f, imageShape).toFloatArray();
            float[] embeddingValues = scope.randomNormal(embeddingShape).normalize(2, 1, 1e-12).toFloatArray();
            Random rng = new Random(0);
            for (int i = 0; i < steps + 2; i++) {
                long t0 = System.nanoTime();
                try (NDManager step = scope.newSubManager()) {
                    // the batch is made in the step's manager, as the trainer's is, so that the step's
                    // intermediates (they go to the manager of the input) are freed with it
                    NDArray images = step.create(imageValues, imageShape);
                    NDArray embeddings = step.create(embeddingValues, embeddingShape);
                    ParameterStore ps = new ParameterStore(step, false);
                    try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                        NDArray loss = decoder.loss(ps, images, embeddings, rng);
                        collector.backward(loss);
                        loss.getFloat();
                    }
                    GradientClipping.clipGlobalNorm(decoder.block(), 1f);
                    DjlRuntime.withoutGradients(() -> {
                        optimizer.step(decoder.block(), 3e-4f);
                        ema.update(decoder.block());
                        return null;
                    });
                }
                if (i >= 2) {
                    millis.add((System.nanoTime() - t0) / 1e6);
                }
            }
            ema.close();
            optimizer.close();
        }
        double ms = median(millis);
        String line = String.format(Locale.ROOT, "%ndecoder training step, batch %d (AdamW, clipping, EMA): %.0f ms",
                trainBatch, ms);
        if (torch != null) {
            double eager = torch.call(command("train", "batch", trainBatch, "repeats", steps)).get("ms").asDouble();
            line += String.format(Locale.ROOT, "; PyTorch %.0f ms, Java/PyTorch %.2f", eager, ms / eager);
        }
        System.out.println(line);
    }

    private static Map<String, Object> command(String op, Object... keyValues) {
        Map<String, Object> command = new LinkedHashMap<>();
        command.put("op", op);
        for (int i = 0; i < keyValues.length; i += 2) {
            command.put((String) keyValues[i], keyValues[i + 1]);
        }
        return command;
    }

    private static double maxAbsDifference(float[] java, JsonNode torch) {
        if (java == null || torch == null || torch.size() != java.length) {
            return Double.NaN;
        }
        double max = 0;
        for (int i = 0; i < java.length; i++) {
            max = Math.max(max, Math.abs(java[i] - torch.get(i).asDouble()));
        }
        return max;
    }

    private static double median(List<Double> values) {
        List<Double> sorted = new ArrayList<>(values);
        sorted.sort(Double::compare);
        return sorted.get(sorted.size() / 2);
    }
}
