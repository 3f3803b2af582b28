package dalle2.trainer.worker;

import dalle2.messages.InvalidMessageException;
import dalle2.messages.SamplerKind;
import dalle2.models.UpsamplerConfig;
import dalle2.sampling.PredictionType;
import dalle2.trainer.TrainerOptions;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A training request's hyper-parameters with the defaults of {@code dalle2 train <model>} filled in: the same
 * names (snake_case for the flags' kebab-case) and the same defaults, so a job and a command line with the same
 * settings train the same model ({@code TrainerWorkerDefaultsTest} in the cli module holds the two to that).
 * Unknown names never get here ({@code TrainingRequest} refuses them).
 */
public final class TrainingSettings {

    private static final Map<String, Object> COMMON = Map.ofEntries(
            Map.entry("batch_size", 64L), Map.entry("lr", 3e-4), Map.entry("min_lr", 3e-5),
            Map.entry("warmup", 200L), Map.entry("weight_decay", 0.01), Map.entry("grad_clip", 1.0),
            Map.entry("ema", 0.999), Map.entry("checkpoint_every", 250L), Map.entry("log_interval", 25L),
            Map.entry("sample_every", 0L), Map.entry("seed", 0L), Map.entry("image_size", 32L),
            Map.entry("held_out_vendor", "openmoji"), Map.entry("repeat", List.of("emoji=4")));

    private static final Map<String, Map<String, Object>> BY_MODEL = Map.of(
            "clip", Map.of("embedding_dim", 256L, "context_length", 16L),
            "prior", Map.of("width", 256L, "depth", 4L, "heads", 4L),
            "decoder", Map.of("base_channels", 32L, "channel_mult", List.of(1, 2, 2), "blocks", 1L,
                    "attention", List.of(8), "condition_scale", 1.0, "scale_shift", false, "prediction", "epsilon"),
            // the upsampler trains at its output size, 256 px, unless told otherwise
            "upsampler", Map.of("image_size", 256L, "low_res_size", 32L, "base_channels", 16L,
                    "channel_mult", List.of(1, 2, 4, 8), "blocks", 1L, "crop", 64L, "max_augmentation_step", 250L,
                    "sampling_augmentation_step", 50L, "sampling_steps", (long) UpsamplerConfig.DEFAULT_SAMPLING_STEPS,
                    "sampling_sampler", UpsamplerConfig.DEFAULT_SAMPLER.configName()));

    private final Map<String, Object> values;
    private final long steps;

    TrainingSettings(String model, long steps, Map<String, Object> asked) {
        this.steps = steps;
        this.values = defaults(model);
        this.values.putAll(asked);
    }

    /** The value every hyper-parameter of {@code model} takes when a job leaves it out. */
    public static Map<String, Object> defaults(String model) {
        Map<String, Object> all = new LinkedHashMap<>(COMMON);
        all.putAll(BY_MODEL.getOrDefault(model, Map.of()));
        return all;
    }

    int integer(String name) {
        long value = ((Number) values.get(name)).longValue();
        if (value < Integer.MIN_VALUE || value > Integer.MAX_VALUE) {
            throw new InvalidMessageException("hyper_parameters." + name, name + " is out of range: " + value);
        }
        return (int) value;
    }

    long longValue(String name) {
        return ((Number) values.get(name)).longValue();
    }

    float number(String name) {
        return ((Number) values.get(name)).floatValue();
    }

    double doubleValue(String name) {
        return ((Number) values.get(name)).doubleValue();
    }

    boolean flag(String name) {
        return Boolean.TRUE.equals(values.get(name));
    }

    String text(String name) {
        return (String) values.get(name);
    }

    /** {@code prediction}: what the network is trained to predict, refused naming the hyper-parameter if unknown. */
    /** A sampler by its API name, refused naming the hyper-parameter if unknown. */
    SamplerKind sampler(String name) {
        try {
            return SamplerKind.fromConfigName(text(name));
        } catch (IllegalArgumentException e) {
            throw new InvalidMessageException("hyper_parameters." + name, e.getMessage());
        }
    }

    PredictionType prediction() {
        try {
            return PredictionType.fromConfigName(text("prediction"));
        } catch (IllegalArgumentException e) {
            throw new InvalidMessageException("hyper_parameters.prediction", e.getMessage());
        }
    }

    @SuppressWarnings("unchecked")
    List<Integer> integers(String name) {
        return List.copyOf((List<Integer>) values.get(name));
    }

    /** {@code repeat}: source=times entries. */
    @SuppressWarnings("unchecked")
    Map<String, Integer> repeats() {
        Map<String, Integer> repeats = new LinkedHashMap<>();
        for (String entry : (List<String>) values.get("repeat")) {
            String[] parts = entry.split("=");
            if (parts.length != 2) {
                throw new InvalidMessageException("hyper_parameters.repeat",
                        "repeat expects source=times entries, got '" + entry + "'");
            }
            try {
                repeats.put(parts[0].trim(), Integer.parseInt(parts[1].trim()));
            } catch (NumberFormatException e) {
                throw new InvalidMessageException("hyper_parameters.repeat",
                        "repeat expects source=times entries, got '" + entry + "'");
            }
        }
        return repeats;
    }

    /** The trainer's options; a value out of range fails naming its flag ({@code --batch-size must be >= 1}). */
    TrainerOptions options() {
        return new TrainerOptions(steps, integer("batch_size"), number("lr"), longValue("warmup"), number("min_lr"),
                number("weight_decay"), number("grad_clip"), number("ema"), integer("checkpoint_every"),
                integer("log_interval"), integer("sample_every"), longValue("seed"));
    }
}
