package dalle2.messages;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The hyper-parameters a training request may set, per model: the options of {@code dalle2 train <model>},
 * in snake_case ({@code --batch-size} is {@code batch_size}). Only names and JSON types are checked here; the
 * trainer checks ranges, naming the same option.
 */
public final class HyperParameters {

    /** The JSON type a hyper-parameter takes. */
    public enum Kind {
        INTEGER, NUMBER, BOOLEAN, STRING, INTEGER_LIST, STRING_LIST;

        boolean accepts(Object value) {
            return switch (this) {
                case INTEGER -> value instanceof Integer || value instanceof Long;
                case NUMBER -> value instanceof Number;
                case BOOLEAN -> value instanceof Boolean;
                case STRING -> value instanceof String;
                case INTEGER_LIST -> value instanceof List<?> list && !list.isEmpty()
                        && list.stream().allMatch(v -> v instanceof Integer);
                case STRING_LIST -> value instanceof List<?> list && list.stream().allMatch(v -> v instanceof String);
            };
        }

        String described() {
            return switch (this) {
                case INTEGER -> "an integer";
                case NUMBER -> "a number";
                case BOOLEAN -> "true or false";
                case STRING -> "a string";
                case INTEGER_LIST -> "a non-empty list of integers";
                case STRING_LIST -> "a list of strings";
            };
        }
    }

    public static final List<String> MODELS = List.of("clip", "prior", "decoder", "upsampler");

    private static final Map<String, Kind> COMMON = Map.ofEntries(
            Map.entry("batch_size", Kind.INTEGER), Map.entry("lr", Kind.NUMBER), Map.entry("min_lr", Kind.NUMBER),
            Map.entry("warmup", Kind.INTEGER), Map.entry("weight_decay", Kind.NUMBER),
            Map.entry("grad_clip", Kind.NUMBER), Map.entry("ema", Kind.NUMBER),
            Map.entry("checkpoint_every", Kind.INTEGER), Map.entry("log_interval", Kind.INTEGER),
            Map.entry("sample_every", Kind.INTEGER), Map.entry("seed", Kind.INTEGER),
            Map.entry("image_size", Kind.INTEGER), Map.entry("held_out_vendor", Kind.STRING),
            Map.entry("repeat", Kind.STRING_LIST));

    private static final Map<String, Map<String, Kind>> BY_MODEL = Map.of(
            "clip", Map.of("embedding_dim", Kind.INTEGER, "context_length", Kind.INTEGER),
            "prior", Map.of("width", Kind.INTEGER, "depth", Kind.INTEGER, "heads", Kind.INTEGER),
            "decoder", Map.of("base_channels", Kind.INTEGER, "channel_mult", Kind.INTEGER_LIST,
                    "blocks", Kind.INTEGER, "attention", Kind.INTEGER_LIST, "condition_scale", Kind.NUMBER,
                    "scale_shift", Kind.BOOLEAN, "prediction", Kind.STRING),
            "upsampler", Map.of("low_res_size", Kind.INTEGER, "base_channels", Kind.INTEGER,
                    "channel_mult", Kind.INTEGER_LIST, "blocks", Kind.INTEGER, "crop", Kind.INTEGER,
                    "max_augmentation_step", Kind.INTEGER, "sampling_augmentation_step", Kind.INTEGER,
                    "sampling_steps", Kind.INTEGER, "sampling_sampler", Kind.STRING));

    private HyperParameters() {
    }

    /** Every hyper-parameter {@code model} takes, with its type. */
    public static Map<String, Kind> of(String model) {
        Map<String, Kind> all = new LinkedHashMap<>(COMMON);
        all.putAll(BY_MODEL.getOrDefault(model, Map.of()));
        return all;
    }

    /** Refuses a name {@code model} does not take, or a value of the wrong type, naming the hyper-parameter. */
    static void check(String model, Map<String, Object> values) {
        Map<String, Kind> known = of(model);
        for (Map.Entry<String, Object> e : values.entrySet()) {
            String field = "hyper_parameters." + e.getKey();
            Kind kind = known.get(e.getKey());
            InvalidMessageException.require(kind != null, field, "unknown hyper-parameter '" + e.getKey() + "' for "
                    + model + "; it takes " + String.join(", ", new TreeSet<>(known.keySet())));
            InvalidMessageException.require(e.getValue() != null && kind.accepts(e.getValue()), field,
                    e.getKey() + " must be " + kind.described() + ", got " + e.getValue());
        }
    }
}
