package dalle2.gateway;

import dalle2.messages.GenerationRequest;
import java.time.Duration;

/**
 * What the gateway admits.
 *
 * @param maxBacklog     submissions are refused (503 with Retry-After) while more than this many requests wait
 *                       for the prior pool (its consumer lag on the requests topic)
 * @param backlogRefresh how often the backlog is measured (off the event loop; requests read the last figure)
 * @param costModel      what a request costs
 * @param maxCost        a request costing more is refused (400 {@code cost_too_high})
 */
public record AdmissionConfig(long maxBacklog, Duration backlogRefresh, CostModel costModel, long maxCost) {

    public static final long DEFAULT_MAX_BACKLOG = 10_000;
    public static final Duration DEFAULT_BACKLOG_REFRESH = Duration.ofSeconds(2);
    public static final Duration MIN_BACKLOG_REFRESH = Duration.ofMillis(100);
    /** Allows every default request (1-8 images of 64 + 50 steps) and up to 8 images of 250 + 250 steps. */
    public static final long DEFAULT_MAX_COST = 4_000;
    /** The cost of the largest valid request (8 images of 1000 + 1000 steps): a cap this high never refuses. */
    public static final long MAX_VALID_COST = (long) GenerationRequest.MAX_IMAGES * 2 * GenerationRequest.MAX_STEPS;

    /** Cost in denoising steps. */
    public enum CostModel {
        /** n × (prior_steps + decoder_steps). */
        ALL_STEPS,
        /** n × decoder_steps: the decoder is the expensive pool. */
        DECODER_STEPS;

        long cost(GenerationRequest r) {
            long steps = this == ALL_STEPS ? (long) r.priorSteps() + r.decoderSteps() : r.decoderSteps();
            return r.n() * steps;
        }

        String formula() {
            return this == ALL_STEPS ? "n × (prior_steps + decoder_steps)" : "n × decoder_steps";
        }
    }

    public AdmissionConfig {
        if (maxBacklog < 0) {
            throw new IllegalArgumentException("max backlog must be >= 0, got " + maxBacklog);
        }
        if (backlogRefresh == null || backlogRefresh.compareTo(MIN_BACKLOG_REFRESH) < 0) {
            throw new IllegalArgumentException("backlog refresh must be at least " + MIN_BACKLOG_REFRESH + ", got "
                    + backlogRefresh);
        }
        if (costModel == null) {
            throw new IllegalArgumentException("a cost model is required");
        }
        if (maxCost < 1) {
            throw new IllegalArgumentException("max cost must be >= 1, got " + maxCost);
        }
    }

    public static AdmissionConfig defaults() {
        return new AdmissionConfig(DEFAULT_MAX_BACKLOG, DEFAULT_BACKLOG_REFRESH, CostModel.ALL_STEPS,
                DEFAULT_MAX_COST);
    }

    /** The backlog bound only: every valid request is admitted by cost. */
    public static AdmissionConfig backlogOnly() {
        return new AdmissionConfig(DEFAULT_MAX_BACKLOG, DEFAULT_BACKLOG_REFRESH, CostModel.ALL_STEPS,
                MAX_VALID_COST);
    }

    /** Refuses a request over the cost cap, naming {@code n} (the multiplier a client most often lowers). */
    void checkCost(GenerationRequest r) {
        long cost = costModel.cost(r);
        if (cost > maxCost) {
            throw ApiError.badRequest("cost_too_high", "the request costs " + cost + " steps (" + costModel.formula()
                    + "); at most " + maxCost + " are allowed", "n");
        }
    }
}
