package dalle2.messages;

/**
 * What the HTTP API, the web page and {@code dalle2 eval} fill in for a field a client leaves out where that differs
 * from {@link GenerationRequest}'s own default. The record keeps the defaults it always had, so that a request a
 * client produced straight to Kafka, or one written by an older build, draws the same images as before; the API
 * picks what measured best.
 */
public final class ApiDefaults {

    /**
     * The prior's sampler of a request that names none: DPM-Solver++(2M) at its 20 default steps matches DDIM at 64
     * steps on the shipped prior (SAMPLERS.md), a third of the prior's time.
     */
    public static final SamplerKind PRIOR_SAMPLER = SamplerKind.DPMPP_2M;

    /**
     * The decoder's sampler of a request that names none and no η: DPM-Solver++(2M) at its 30 default steps matches
     * DDIM at 50 steps on the shipped decoder (SAMPLERS.md, two seeds), at 0.6 of the decoder's time.
     */
    public static final SamplerKind DECODER_SAMPLER = SamplerKind.DPMPP_2M;

    private ApiDefaults() {
    }

    /**
     * The prior's sampler of a request naming {@code sampler} (both stages) and {@code priorSampler} (the prior
     * alone), either possibly null: the one named for the prior, else the one named for both, else
     * {@link #PRIOR_SAMPLER}.
     */
    public static String priorSampler(String sampler, String priorSampler) {
        return priorSampler != null ? priorSampler : sampler != null ? sampler : PRIOR_SAMPLER.configName();
    }

    /**
     * The decoder's sampler of a request naming {@code sampler} (possibly null) and {@code eta} (possibly null): the
     * one named, else DDIM when η is above 0 (only DDIM has a stochastic variant: a client asking for η gets it),
     * else {@link #DECODER_SAMPLER}.
     */
    public static String decoderSampler(String sampler, Double eta) {
        return sampler != null ? sampler
                : eta != null && eta > 0 ? SamplerKind.DDIM.configName() : DECODER_SAMPLER.configName();
    }
}
