package dalle2.gateway;

import io.vertx.core.MultiMap;
import java.util.List;
import java.util.Set;

/**
 * The query parameters of {@code POST /v1/variations}: the generation parameters that apply to a variation (no
 * prior runs, so no prior steps or guidance), each parsed strictly, an unknown or repeated one refused.
 *
 * @param label a caption kept with the job in place of a prompt (default: {@value #DEFAULT_LABEL})
 */
record VariationQuery(String label, Integer n, Long seed, Integer decoderSteps, Double eta, Double decoderGuidance,
                      String sampler, Integer size, String webhook) {

    static final String DEFAULT_LABEL = "variations of an uploaded image";
    static final Set<String> NAMES = Set.of("prompt", "n", "seed", "decoder_steps", "eta", "decoder_guidance",
            "sampler", "size", "webhook");

    static VariationQuery parse(MultiMap query) {
        for (String name : query.names()) {
            if (!NAMES.contains(name)) {
                throw ApiError.badRequest("invalid_request", "unknown query parameter " + shown(name)
                        + "; a variation takes " + List.copyOf(new java.util.TreeSet<>(NAMES)), name);
            }
            if (query.getAll(name).size() > 1) {
                throw ApiError.badRequest("invalid_request", name + " is given more than once", name);
            }
        }
        String label = query.get("prompt");
        return new VariationQuery(label == null ? DEFAULT_LABEL : label, integer(query, "n"), longValue(query, "seed"),
                integer(query, "decoder_steps"), number(query, "eta"), number(query, "decoder_guidance"),
                query.get("sampler"), integer(query, "size"), query.get("webhook"));
    }

    private static Integer integer(MultiMap query, String name) {
        String v = query.get(name);
        if (v == null) {
            return null;
        }
        try {
            return Integer.valueOf(v);
        } catch (NumberFormatException e) {
            throw ApiError.badRequest("invalid_request", name + " must be an integer, got " + shown(v), name);
        }
    }

    private static Long longValue(MultiMap query, String name) {
        String v = query.get(name);
        if (v == null) {
            return null;
        }
        try {
            return Long.valueOf(v);
        } catch (NumberFormatException e) {
            throw ApiError.badRequest("invalid_request", name + " must be a 64-bit integer, got " + shown(v), name);
        }
    }

    private static Double number(MultiMap query, String name) {
        String v = query.get(name);
        if (v == null) {
            return null;
        }
        try {
            double d = Double.parseDouble(v);
            if (!Double.isFinite(d) || !v.matches("-?[0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?")) {
                throw new NumberFormatException();
            }
            return d;
        } catch (NumberFormatException e) {
            throw ApiError.badRequest("invalid_request", name + " must be a number, got " + shown(v), name);
        }
    }

    private static String shown(String v) {
        String printable = v.replaceAll("[^\\x20-\\x7e]", "?");
        return "'" + (printable.length() <= 32 ? printable : printable.substring(0, 32) + "...") + "'";
    }
}
