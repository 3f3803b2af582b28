package dalle2.sampling;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

/**
 * The loop every sampler runs: one step per timestep, each in its own NDManager, since DJL keeps every
 * intermediate until its manager closes (CONTRIBUTING.md). A step's result moves to the caller's manager;
 * anything else a step must keep for a later one it attaches there itself.
 */
final class StepLoop {

    /** One step: x_t and the condition live in the step's manager ({@code x.getManager()}). */
    @FunctionalInterface
    interface Step {
        NDArray next(int index, NDArray x, NDArray condition);
    }

    private StepLoop() {
    }

    /**
     * @param condition the result and anything the steps keep live in its manager
     * @param start     x at the first timestep
     */
    static NDArray run(NDArray condition, NDArray start, int steps, Step step, Sampler.Progress progress) {
        NDManager scope = condition.getManager();
        NDArray x = start;
        for (int i = 0; i < steps; i++) {
            // frees the network's intermediates and the previous x_t
            try (NDManager manager = scope.newSubManager()) {
                x.attach(manager);
                NDArray cond = condition.duplicate();
                cond.attach(manager);
                NDArray next = step.next(i, x, cond);
                next.attach(scope);
                x = next;
            }
            progress.onStep(i + 1, steps);
        }
        return x;
    }

    static void checkSeeds(NDArray condition, long[] seeds) {
        long batch = condition.getShape().get(0);
        if (seeds.length != batch) {
            throw new IllegalArgumentException("need one seed per sample: " + seeds.length + " seeds for " + batch);
        }
    }
}
