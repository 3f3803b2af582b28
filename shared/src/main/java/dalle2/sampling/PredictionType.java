package dalle2.sampling;

import java.util.Locale;

/** What a denoising network outputs: the noise ε (DDPM), the clean sample x₀ (unCLIP prior), or v. */
public enum PredictionType {
    /** ε, the noise that was added (Ho et al. 2020). */
    EPSILON,
    /** x₀, the clean sample (the DALL·E 2 prior predicts the image embedding directly). */
    SAMPLE,
    /** v = √ᾱ·ε − √(1−ᾱ)·x₀ (Salimans and Ho 2022). */
    V;

    /** The name used in model config files: {@code epsilon}, {@code sample} or {@code v}. */
    public String configName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses a config name, naming the accepted values when it is unknown. */
    public static PredictionType fromConfigName(String name) {
        for (PredictionType type : values()) {
            if (type.configName().equalsIgnoreCase(name)) {
                return type;
            }
        }
        throw new IllegalArgumentException("unknown prediction type '" + name + "': expected epsilon, sample or v");
    }
}
