package dalle2.training;

/**
 * Linear warm-up from 0 to {@code peak} over {@code warmupSteps}, then a half cosine from {@code peak} down to
 * {@code floor} at {@code totalSteps} (Loshchilov and Hutter 2017, without restarts), and {@code floor} after.
 * A pure function of the step, so a resumed run needs nothing but the step count.
 *
 * @param peak        the learning rate at the end of warm-up
 * @param floor       the learning rate at and after {@code totalSteps}
 * @param warmupSteps steps of linear warm-up (0 for none)
 * @param totalSteps  the step at which the cosine reaches {@code floor}
 */
public record LearningRateSchedule(float peak, float floor, long warmupSteps, long totalSteps) {

    public LearningRateSchedule {
        if (!(peak > 0) || Float.isInfinite(peak)) {
            throw new IllegalArgumentException("peak learning rate must be positive, got " + peak);
        }
        if (!(floor >= 0 && floor <= peak)) {
            throw new IllegalArgumentException("floor must be in [0, peak = " + peak + "], got " + floor);
        }
        if (warmupSteps < 0) {
            throw new IllegalArgumentException("warmup_steps must be >= 0, got " + warmupSteps);
        }
        if (totalSteps <= warmupSteps) {
            throw new IllegalArgumentException("total_steps (" + totalSteps + ") must exceed warmup_steps (" + warmupSteps + ")");
        }
    }

    /** The learning rate of the update with 0-based index {@code step}. */
    public float at(long step) {
        if (step < 0) {
            throw new IllegalArgumentException("step must be >= 0, got " + step);
        }
        if (step < warmupSteps) {
            return (float) ((double) peak * step / warmupSteps);
        }
        double progress = Math.min(1.0, (double) (step - warmupSteps) / (totalSteps - warmupSteps));
        return (float) (floor + (peak - floor) * 0.5 * (1.0 + Math.cos(Math.PI * progress)));
    }
}
