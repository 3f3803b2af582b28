package dalle2.cli;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dalle2.cli.bench.FlopCounter;
import dalle2.cli.bench.Measurements;
import dalle2.djl.DjlRuntime;
import dalle2.models.Decoder;
import dalle2.models.DecoderConfig;
import dalle2.models.Prior;
import dalle2.models.PriorConfig;
import dalle2.sampling.Denoiser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code dalle2 bench}: the neural work of one prior and one decoder evaluation, and of full DDIM sampling, at
 * the configured sizes, next to the matrix-multiply peak of this machine measured in the same run.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Time the prior and the decoder (network evaluations and full DDIM sampling).")
public final class BenchCommand implements Callable<Integer> {

    @Option(names = "--models", defaultValue = "trained_models",
            description = "model folder whose prior/ and decoder/ configs set the sizes; missing ones fall back "
                    + "to the defaults of dalle2 train (default: ${DEFAULT-VALUE})")
    Path models;

    @Option(names = "--batches", split = ",", defaultValue = "1,4,16", description = "batch sizes (default: ${DEFAULT-VALUE})")
    List<Integer> batches;

    @Option(names = "--repeats", defaultValue = "7", description = "timed evaluations per figure; the median is shown")
    int repeats;

    @Option(names = "--prior-steps", defaultValue = "64") int priorSteps;
    @Option(names = "--decoder-steps", defaultValue = "50") int decoderSteps;
    @Option(names = "--guidance", defaultValue = "3.0", description = "guidance of the sampling runs (doubles the batch)")
    float guidance;

    @Override
    public Integer call() throws Exception {
        DjlRuntime.configure();
        Path dir = ModelFactory.resolve(models);
        try (NDManager manager = DjlRuntime.newManager()) {
            PriorConfig priorConfig = Files.isRegularFile(dir.resolve("prior/config.json"))
                    ? dalle2.json.Json.readFile(dir.resolve("prior/config.json"), PriorConfig.class)
                    : PriorConfig.of(256, 256, 4, 4);
            DecoderConfig decoderConfig = Files.isRegularFile(dir.resolve("decoder/config.json"))
                    ? DecoderConfig.read(dir.resolve("decoder"))
                    : DecoderConfig.of(32, 32, List.of(1, 2, 2), 1, List.of(8)).withConditionDim(256);
            double peak = Measurements.matmulPeakGflops(manager, 2048, 5);
            System.out.printf(Locale.ROOT, "machine: %d cores, libtorch threads %s; fp32 matmul 2048^2 peak %.1f GFLOP/s%n",
                    Runtime.getRuntime().availableProcessors(), System.getProperty(DjlRuntime.NUM_THREADS), peak);

            Prior prior = Prior.create(priorConfig, manager);
            int dim = priorConfig.embeddingDim();
            report("prior", priorConfig.width() + "w x " + priorConfig.depth() + " layers, " + dim + "-d",
                    FlopCounter.perSample(prior.network()), new Shape(dim), dim, prior, manager, peak);
            Decoder decoder = Decoder.create(decoderConfig, manager, 0);
            report("decoder", decoderConfig.imageSize() + "px base " + decoderConfig.baseChannels() + " "
                            + decoderConfig.channelMultipliers(), FlopCounter.perSample(decoder.block()),
                    decoder.imageShape(), decoderConfig.conditionDim(), decoder, manager, peak);

            System.out.println();
            System.out.println("full DDIM sampling (eta 0, guidance " + guidance + "):");
            for (int batch : batches) {
                long[] seeds = new long[batch];
                Arrays.setAll(seeds, i -> i);
                try (NDManager scope = manager.newSubManager()) {
                    NDArray text = scope.randomNormal(new Shape(batch, dim)).normalize(2, 1, 1e-12);
                    long t0 = System.nanoTime();
                    prior.sample(text, priorSteps, 0f, guidance, seeds);
                    double priorSeconds = (System.nanoTime() - t0) / 1e9;
                    NDArray embeddings = scope.randomNormal(new Shape(batch, decoderConfig.conditionDim()))
                            .normalize(2, 1, 1e-12);
                    t0 = System.nanoTime();
                    decoder.sample(embeddings, decoderSteps, 0f, guidance, seeds,
                            dalle2.sampling.DdimSampler.Progress.NONE);
                    double decoderSeconds = (System.nanoTime() - t0) / 1e9;
                    System.out.printf(Locale.ROOT, "  batch %2d: prior %d steps %.2f s (%.1f embeddings/s), decoder %d steps"
                                    + " %.2f s (%.2f images/s)%n", batch, priorSteps, priorSeconds, batch / priorSeconds,
                            decoderSteps, decoderSeconds, batch / decoderSeconds);
                }
            }
            System.out.printf(Locale.ROOT, "peak RSS %.0f MiB%n", Measurements.peakRssMib());
        }
        return 0;
    }

    private void report(String name, String shape, double flopsPerSample, Shape sampleShape, int conditionDim,
                        Denoiser network, NDManager manager, double peak) {
        System.out.printf(Locale.ROOT, "%n%s (%s): %.3f GFLOP per sample (conv + linear)%n", name, shape,
                flopsPerSample / 1e9);
        for (int batch : batches) {
            try (NDManager scope = manager.newSubManager()) {
                NDArray x = scope.randomNormal(new Shape(batch).addAll(sampleShape));
                NDArray t = scope.full(new Shape(batch), 500L);
                NDArray condition = scope.randomNormal(new Shape(batch, conditionDim));
                NDArray keep = scope.ones(new Shape(batch));
                List<Double> millis = new ArrayList<>();
                for (int i = 0; i < repeats + 2; i++) {
                    try (NDManager step = scope.newSubManager()) {
                        long t0 = System.nanoTime();
                        NDArray out = DjlRuntime.withoutGradients(() -> network.predict(x, t, condition, keep));
                        out.flatten().getFloat(0); // waits for the result
                        out.attach(step);
                        if (i >= 2) { // two warm-up evaluations
                            millis.add((System.nanoTime() - t0) / 1e6);
                        }
                    }
                }
                millis.sort(Double::compare);
                double median = millis.get(millis.size() / 2);
                double gflops = flopsPerSample * batch / (median / 1e3) / 1e9;
                System.out.printf(Locale.ROOT, "  batch %2d: %8.2f ms per evaluation (%.2f ms per sample), %6.1f GFLOP/s"
                        + " = %.0f%% of the matmul peak%n", batch, median, median / batch, gflops, 100 * gflops / peak);
            }
        }
    }
}
