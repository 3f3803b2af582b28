package dalle2.trainer;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import dalle2.training.AdamW;
import dalle2.training.Ema;
import dalle2.training.GradientClipping;
import dalle2.training.LearningRateSchedule;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The training loop shared by the three worker types (the seed's DALLe2Trainer): {@link #train()},
 * {@link #trainOneEpoch()} and {@link #trainStep()}, AdamW with warm-up and cosine decay, global-norm
 * clipping, EMA weights for sampling, checkpoints every N steps, at the end and on SIGTERM, and an exact
 * resume (weights, optimizer moments, EMA, step and random state).
 *
 * <p>The batch of step s is a pure function of (seed, s): epoch e = s / stepsPerEpoch reads a permutation
 * seeded by (seed, e). So a resumed run draws the same batches as an uninterrupted one.
 *
 * <p>Output folder: {@code checkpoint/} (resume state), {@code model/} (the exported model with EMA weights),
 * {@code losses.csv}, {@code loss.png}, {@code samples/step-N.png}.
 */
public final class DallE2Trainer {

    private static final Logger LOG = LoggerFactory.getLogger(DallE2Trainer.class);

    private final TrainingTask task;
    private final TrainerOptions options;
    private final Path outDir;
    private final NDManager manager;
    private final AdamW optimizer;
    private final Ema ema;
    private final LearningRateSchedule schedule;
    private final LossLog log;
    private final ProgressLine progress;
    private final AtomicBoolean stopRequested = new AtomicBoolean();
    private TrainingListener listener = TrainingListener.NONE;
    private Random rng;
    private long step;
    private long skippedSteps;
    private int consecutiveSkips;

    /** Non-finite steps in a row after which the run stops instead of skipping on. */
    static final int MAX_CONSECUTIVE_SKIPS = 10;

    public DallE2Trainer(TrainingTask task, TrainerOptions options, Path outDir, NDManager manager) {
        if (task.size() < options.batchSize()) {
            throw new IllegalArgumentException("--batch-size " + options.batchSize() + " is larger than the "
                    + task.kind() + " training set (" + task.size() + " examples)");
        }
        this.task = task;
        this.options = options;
        this.outDir = outDir;
        this.manager = manager;
        this.optimizer = new AdamW(0.9f, 0.999f, 1e-8f, options.weightDecay());
        this.ema = options.emaDecay() > 0 ? new Ema(task.block(), options.emaDecay()) : null;
        this.schedule = new LearningRateSchedule(options.learningRate(), options.minLearningRate(),
                options.warmupSteps(), options.steps());
        this.log = new LossLog(outDir.resolve("losses.csv"), outDir.resolve("loss.png"), task.kind());
        this.progress = new ProgressLine(task.kind(), options.steps());
        this.rng = new Random(options.seed());
    }

    /** Who hears of logged steps, checkpoints and samples as the run writes them. */
    public DallE2Trainer listener(TrainingListener newListener) {
        this.listener = newListener == null ? TrainingListener.NONE : newListener;
        return this;
    }

    /**
     * Makes {@link #train()} stop after the step it is in, checkpoint and return, as SIGTERM does: a worker that
     * hands its job over to another (shutdown, lost partition) stops its run this way.
     */
    public void requestStop() {
        stopRequested.set(true);
    }

    /** Whether the run reached its last step (false after {@link #requestStop()} cut it short). */
    public boolean finished() {
        return step >= options.steps();
    }

    /** The step the next {@link #trainStep()} will run (0 for a fresh run). */
    public long step() {
        return step;
    }

    public Path checkpointDir() {
        return outDir.resolve("checkpoint");
    }

    public Path modelDir() {
        return outDir.resolve("model");
    }

    /** Loads the checkpoint in the output folder, if there is one; returns whether it did. */
    public boolean resume() throws IOException {
        if (!Files.isRegularFile(checkpointDir().resolve(Checkpoint.STATE_FILE))) {
            return false;
        }
        Checkpoint.State state = Checkpoint.load(checkpointDir(), task, optimizer, ema, manager);
        if (!state.kind().equals(task.kind())) {
            throw new IllegalArgumentException("the checkpoint in " + checkpointDir() + " is a " + state.kind()
                    + " checkpoint, not " + task.kind());
        }
        step = state.step();
        rng = state.random();
        log.truncateAfter(step);
        LOG.info("resumed {} training at step {} of {}", task.kind(), step, options.steps());
        return true;
    }

    /** Trains until {@code options.steps()} (or SIGTERM), checkpointing as it goes, then exports the model. */
    public void train() throws IOException {
        CountDownLatch finished = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            stopRequested.set(true);
            try {
                // give the loop time to finish its step and write the checkpoint before the JVM exits
                finished.await(120, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "checkpoint-on-sigterm");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            while (step < options.steps() && !stopRequested.get()) {
                trainStep();
            }
            checkpoint();
            export();
            if (stopRequested.get()) {
                LOG.info("stopped at step {}: checkpoint written, resume with --resume", step);
            }
        } finally {
            finished.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // the JVM is already exiting through the hook
            }
        }
    }

    /** Runs the remaining steps of the current epoch. */
    public void trainOneEpoch() throws IOException {
        long stepsPerEpoch = stepsPerEpoch();
        long end = Math.min(options.steps(), (step / stepsPerEpoch + 1) * stepsPerEpoch);
        while (step < end && !stopRequested.get()) {
            trainStep();
        }
    }

    /** One optimizer step on the batch of the current step; returns its loss. */
    public float trainStep() throws IOException {
        long started = System.nanoTime();
        float learningRate = schedule.at(step);
        float loss;
        float gradientNorm;
        boolean skipped;
        try (NDManager stepManager = manager.newSubManager()) {
            ParameterStore parameterStore = new ParameterStore(stepManager, false);
            try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                NDArray value = task.loss(parameterStore, batchIndices(step), rng);
                collector.backward(value);
                loss = value.getFloat();
            }
            gradientNorm = options.gradientClip() > 0
                    ? GradientClipping.clipGlobalNorm(task.block(), options.gradientClip()) : 0f;
            // a non-finite loss or gradient would poison the weights, the moments and the EMA: skip the update,
            // as mixed-precision trainers do, and give up only when it keeps happening
            skipped = !Float.isFinite(loss) || !Float.isFinite(gradientNorm);
            if (skipped) {
                AdamW.zeroGradients(task.block().getParameters());
            } else {
                optimizer.step(task.block(), learningRate);
                if (ema != null) {
                    ema.update(task.block());
                }
            }
        }
        if (skipped) {
            skippedSteps++;
            LOG.warn("{} step {}: loss {} / gradient norm {} not finite; update skipped ({} skipped so far)",
                    task.kind(), step, loss, gradientNorm, skippedSteps);
            if (++consecutiveSkips > MAX_CONSECUTIVE_SKIPS) {
                throw new IllegalStateException(task.kind() + " loss was not finite " + consecutiveSkips
                        + " steps in a row at step " + step + ": lower --lr or raise --warmup; the last checkpoint is in "
                        + checkpointDir());
            }
        } else {
            consecutiveSkips = 0;
        }
        step++;
        double seconds = (System.nanoTime() - started) / 1e9;
        log.record(step, loss, learningRate, gradientNorm, seconds);
        progress.update(step, loss, learningRate, seconds, step % options.logInterval() == 0);
        if (step % options.logInterval() == 0) {
            log.flush();
            listener.logged(step, loss, learningRate);
        }
        if (step % options.checkpointEvery() == 0 && step < options.steps()) {
            checkpoint();
        }
        if (options.sampleEvery() > 0 && step % options.sampleEvery() == 0) {
            Path png = outDir.resolve("samples").resolve("step-" + step + ".png");
            withEmaWeights(() -> task.writeSamples(png, step));
            if (Files.isRegularFile(png)) {
                listener.sampled(step, png);
            }
        }
        return loss;
    }

    /** Writes the resume state, the loss log and its plot. */
    public void checkpoint() throws IOException {
        Checkpoint.save(checkpointDir(), task, optimizer, ema, step, rng, manager);
        log.flush();
        log.plot();
        listener.checkpointed(step);
    }

    /** Writes the model folder with the EMA weights (the ones to sample with). */
    public void export() throws IOException {
        withEmaWeights(() -> task.export(modelDir()));
    }

    int[] batchIndices(long forStep) {
        long stepsPerEpoch = stepsPerEpoch();
        long epoch = forStep / stepsPerEpoch;
        int offset = (int) ((forStep % stepsPerEpoch) * options.batchSize());
        int[] permutation = permutation(task.size(), options.seed() * 1_000_003L + epoch);
        int[] batch = new int[options.batchSize()];
        System.arraycopy(permutation, offset, batch, 0, batch.length);
        return batch;
    }

    private long stepsPerEpoch() {
        return task.size() / options.batchSize();
    }

    private static int[] permutation(int size, long seed) {
        int[] order = new int[size];
        for (int i = 0; i < size; i++) {
            order[i] = i;
        }
        Random random = new Random(seed);
        for (int i = size - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int tmp = order[i];
            order[i] = order[j];
            order[j] = tmp;
        }
        return order;
    }

    @FunctionalInterface
    private interface IoAction {
        void run() throws IOException;
    }

    private void withEmaWeights(IoAction action) throws IOException {
        Block block = task.block();
        if (ema == null) {
            action.run();
            return;
        }
        ema.swap(block);
        try {
            action.run();
        } finally {
            ema.swap(block);
        }
    }
}
