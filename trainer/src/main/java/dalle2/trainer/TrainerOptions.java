package dalle2.trainer;

/**
 * Hyper-parameters and bookkeeping of one training run; validated so a bad flag fails before any work.
 *
 * @param steps            total optimizer steps of the run (a resumed run continues up to this)
 * @param batchSize        examples per step
 * @param learningRate     peak learning rate after warm-up
 * @param warmupSteps      linear warm-up from 0 to the peak
 * @param minLearningRate  the cosine decay ends here
 * @param weightDecay      AdamW's decoupled weight decay (not applied to biases and norm gains)
 * @param gradientClip     maximum global gradient norm; 0 disables clipping
 * @param emaDecay         decay of the exponential moving average used for sampling; 0 disables EMA
 * @param checkpointEvery  steps between checkpoints (also written at the end and on SIGTERM)
 * @param logInterval      steps between progress lines and CSV rows
 * @param sampleEvery      steps between sample grids; 0 disables them
 * @param seed             seeds the data order and the trainer's random stream
 */
public record TrainerOptions(long steps, int batchSize, float learningRate, long warmupSteps,
                             float minLearningRate, float weightDecay, float gradientClip, float emaDecay,
                             int checkpointEvery, int logInterval, int sampleEvery, long seed) {

    public TrainerOptions {
        require(steps >= 1, "steps", "must be >= 1, got " + steps);
        require(batchSize >= 1, "batch-size", "must be >= 1, got " + batchSize);
        require(learningRate > 0 && Float.isFinite(learningRate), "lr", "must be > 0, got " + learningRate);
        require(warmupSteps >= 0, "warmup", "must be >= 0, got " + warmupSteps);
        // the schedule decays after the warm-up: a run that ends inside it has no decay to run
        require(warmupSteps < steps, "warmup", "must be below --steps (" + steps + "), got " + warmupSteps);
        require(minLearningRate >= 0 && minLearningRate <= learningRate, "min-lr",
                "must be in [0, lr], got " + minLearningRate);
        require(weightDecay >= 0, "weight-decay", "must be >= 0, got " + weightDecay);
        require(gradientClip >= 0, "grad-clip", "must be >= 0, got " + gradientClip);
        require(emaDecay >= 0 && emaDecay < 1, "ema", "must be in [0, 1), got " + emaDecay);
        require(checkpointEvery >= 1, "checkpoint-every", "must be >= 1, got " + checkpointEvery);
        require(logInterval >= 1, "log-interval", "must be >= 1, got " + logInterval);
        require(sampleEvery >= 0, "sample-every", "must be >= 0, got " + sampleEvery);
    }

    private static void require(boolean ok, String option, String message) {
        if (!ok) {
            throw new IllegalArgumentException("--" + option + " " + message);
        }
    }
}
