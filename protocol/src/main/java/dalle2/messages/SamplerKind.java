package dalle2.messages;

/**
 * The samplers a request can choose, by the name used in requests, flags and the API: {@code ddim} or
 * {@code dpmpp-2m}. Both evaluate the network once per step (twice the batch with guidance). The model core's
 * {@code dalle2.sampling.Samplers} makes the sampler of a kind.
 */
public enum SamplerKind {
    /** DDIM (Song et al. 2021); η from 0 (deterministic) to 1 (DDPM). */
    DDIM("ddim"),
    /** DPM-Solver++(2M) (Lu et al. 2022): deterministic, second order, meant for 15–25 steps. */
    DPMPP_2M("dpmpp-2m");

    /** What a request without a sampler gets. */
    public static final SamplerKind DEFAULT = DDIM;

    private final String configName;

    SamplerKind(String configName) {
        this.configName = configName;
    }

    /** The name in requests, flags and the API. */
    public String configName() {
        return configName;
    }

    /**
     * The prior's steps for a request that names none: DPM-Solver++ at 20 steps matches DDIM at 64 on the shipped
     * prior (within the run-to-run noise of recognition, Fréchet distance and emoji retrieval; SAMPLERS.md).
     */
    public int defaultPriorSteps() {
        return this == DDIM ? 64 : 20;
    }

    /**
     * The decoder's steps for a request that names none: DPM-Solver++ at 30 steps matches DDIM at 50 on the shipped
     * decoder (SAMPLERS.md, "The decoder at 30 steps"); at 15–20 it did not.
     */
    public int defaultDecoderSteps() {
        return this == DDIM ? 50 : 30;
    }

    /** Whether η may be above 0 (only DDIM has a stochastic variant). */
    public boolean acceptsEta() {
        return this == DDIM;
    }

    /** The names accepted, for messages: {@code ddim, dpmpp-2m}. */
    public static String names() {
        StringBuilder names = new StringBuilder();
        for (SamplerKind kind : values()) {
            names.append(names.length() == 0 ? "" : ", ").append(kind.configName);
        }
        return names.toString();
    }

    /** Parses a name (case-insensitive), naming the accepted values when it is unknown. */
    public static SamplerKind fromConfigName(String name) {
        for (SamplerKind kind : values()) {
            if (kind.configName.equalsIgnoreCase(name)) {
                return kind;
            }
        }
        throw new IllegalArgumentException("unknown sampler '" + name + "': expected one of " + names());
    }

    @Override
    public String toString() {
        return configName;
    }
}
