package dalle2.trainer.worker;

import dalle2.messages.InvalidMessageException;
import dalle2.trainer.TrainerOptions;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A training request's hyper-parameters with the defaults of {@code dalle2 train <model>} filled in: the same
 * names (snake_case for the flags' kebab-case) and the same defaults, so a job and a command line with the same
 * settings train the same model. Unknown names never get here ({@code TrainingRequest} refuses them).
 */
final class TrainingSettings {

    private final String model;
    private final Map<String, Object> values;
    private final long steps;

    TrainingSettings(String model, long steps, Map<String, Object> values) {
        this.model = model;
        this.steps = steps;
        this.values = values;
    }

    int integer(String name, int fallback) {
        Object v = values.get(name);
        if (v == null) {
            return fallback;
        }
        long value = ((Number) v).longValue();
        if (value < Integer.MIN_VALUE || value > Integer.MAX_VALUE) {
            throw new InvalidMessageException("hyper_parameters." + name, name + " is out of range: " + value);
        }
        return (int) value;
    }

    long longValue(String name, long fallback) {
        Object v = values.get(name);
        return v == null ? fallback : ((Number) v).longValue();
    }

    float number(String name, float fallback) {
        Object v = values.get(name);
        return v == null ? fallback : ((Number) v).floatValue();
    }

    double doubleValue(String name, double fallback) {
        Object v = values.get(name);
        return v == null ? fallback : ((Number) v).doubleValue();
    }

    boolean flag(String name) {
        return Boolean.TRUE.equals(values.get(name));
    }

    String text(String name, String fallback) {
        Object v = values.get(name);
        return v == null ? fallback : (String) v;
    }

    @SuppressWarnings("unchecked")
    List<Integer> integers(String name, List<Integer> fallback) {
        Object v = values.get(name);
        return v == null ? fallback : List.copyOf((List<Integer>) v);
    }

    /** The training image size: the upsampler's default is its output size, 256 px, the others' 32 px. */
    int imageSize() {
        return integer("image_size", model.equals("upsampler") ? 256 : 32);
    }

    String heldOutVendor() {
        return text("held_out_vendor", "openmoji");
    }

    /** {@code repeat}: source=times entries, {@code emoji=4} unless given. */
    @SuppressWarnings("unchecked")
    Map<String, Integer> repeats() {
        Object v = values.get("repeat");
        List<String> entries = v == null ? List.of("emoji=4") : (List<String>) v;
        Map<String, Integer> repeats = new LinkedHashMap<>();
        for (String entry : entries) {
            String[] parts = entry.split("=");
            try {
                repeats.put(parts[0].trim(), Integer.parseInt(parts[1].trim()));
            } catch (RuntimeException e) {
                throw new InvalidMessageException("hyper_parameters.repeat",
                        "repeat expects source=times entries, got '" + entry + "'");
            }
            if (parts.length != 2) {
                throw new InvalidMessageException("hyper_parameters.repeat",
                        "repeat expects source=times entries, got '" + entry + "'");
            }
        }
        return repeats;
    }

    /** The trainer's options; a value out of range fails naming its flag ({@code --batch-size must be >= 1}). */
    TrainerOptions options() {
        return new TrainerOptions(steps, integer("batch_size", 64), number("lr", 3e-4f), longValue("warmup", 200),
                number("min_lr", 3e-5f), number("weight_decay", 0.01f), number("grad_clip", 1.0f),
                number("ema", 0.999f), integer("checkpoint_every", 250), integer("log_interval", 25),
                integer("sample_every", 0), longValue("seed", 0));
    }
}
