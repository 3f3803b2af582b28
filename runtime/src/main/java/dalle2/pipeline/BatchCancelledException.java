package dalle2.pipeline;

/**
 * Thrown from a sampler's progress callback to stop a running batch whose jobs were all cancelled: the model
 * gives up at the next step instead of finishing work nobody will read. {@link StageWorker} counts the batch's
 * jobs as skipped, not failed. A model must let it through (or keep it as a cause) and free what the batch held
 * (the samplers' per-step NDManager scopes do).
 */
public final class BatchCancelledException extends RuntimeException {

    private final int step;
    private final int steps;

    public BatchCancelledException(int step, int steps) {
        super("batch cancelled after step " + step + " of " + steps, null, false, false);
        this.step = step;
        this.steps = steps;
    }

    /** Network steps the batch had finished when it stopped. */
    public int step() {
        return step;
    }

    public int steps() {
        return steps;
    }

    /** The exception itself or the first of its causes that is one, or null. */
    static BatchCancelledException in(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof BatchCancelledException stopped) {
                return stopped;
            }
        }
        return null;
    }
}
