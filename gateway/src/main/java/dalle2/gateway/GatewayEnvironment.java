package dalle2.gateway;

import dalle2.storage.ObjectStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A gateway's settings from {@code DALLE2_*} environment variables alone, with the names and defaults of the
 * CLI's {@code dalle2 gateway} options, so that the gateway's container image can start it without the CLI (whose
 * class path carries the models' native libraries). The CLI's tests check that every variable its gateway command
 * reads is one of {@link #VARIABLES}.
 */
public final class GatewayEnvironment {

    public static final String HOST = "DALLE2_HOST";
    public static final String PORT = "DALLE2_PORT";
    public static final String KAFKA = "DALLE2_KAFKA";
    public static final String S3 = "DALLE2_S3";
    public static final String S3_KEY = "DALLE2_S3_KEY";
    public static final String S3_SECRET = "DALLE2_S3_SECRET";
    public static final String BUCKET = "DALLE2_BUCKET";
    public static final String API_KEYS = "DALLE2_API_KEYS";
    public static final String API_KEYS_FILE = "DALLE2_API_KEYS_FILE";
    public static final String OPEN = "DALLE2_OPEN";
    public static final String RATE_LIMIT = "DALLE2_RATE_LIMIT";
    public static final String RATE_BURST = "DALLE2_RATE_BURST";
    public static final String MAX_BACKLOG = "DALLE2_MAX_BACKLOG";
    public static final String MAX_COST = "DALLE2_MAX_COST";
    public static final String COST_MODEL = "DALLE2_COST_MODEL";
    public static final String RETENTION = "DALLE2_RETENTION";
    public static final String PRESIGN_TTL = "DALLE2_PRESIGN_TTL";
    public static final String UPSAMPLER = "DALLE2_UPSAMPLER";
    public static final String WEBHOOK_ALLOW = "DALLE2_WEBHOOK_ALLOW";
    public static final String WEBHOOK_SECRET = "DALLE2_WEBHOOK_SECRET";

    /** Every variable a gateway reads. */
    public static final Set<String> VARIABLES = Set.of(HOST, PORT, KAFKA, S3, S3_KEY, S3_SECRET, BUCKET, API_KEYS,
            API_KEYS_FILE, OPEN, RATE_LIMIT, RATE_BURST, MAX_BACKLOG, MAX_COST, COST_MODEL, RETENTION, PRESIGN_TTL,
            UPSAMPLER, WEBHOOK_ALLOW, WEBHOOK_SECRET);

    /** The CLI's default bucket (its embedded stack's). */
    static final String DEFAULT_BUCKET = "dalle2-images";
    static final int MIN_WEBHOOK_SECRET_CHARS = 16;

    private final Map<String, String> env;

    private GatewayEnvironment(Map<String, String> env) {
        this.env = env;
    }

    /**
     * The gateway these variables describe.
     *
     * @throws IllegalArgumentException naming the variable whose value is unusable
     */
    public static GatewayConfig config(Map<String, String> env) {
        return new GatewayEnvironment(env).config();
    }

    private GatewayConfig config() {
        ObjectStore.Config storage = new ObjectStore.Config(text(S3, "http://127.0.0.1:9000"), text(S3_KEY, null),
                text(S3_SECRET, null), text(BUCKET, DEFAULT_BUCKET));
        return GatewayConfig.of(text(HOST, "127.0.0.1"), integer(PORT, 8080), text(KAFKA, "127.0.0.1:9092"),
                        storage, policy())
                .withPresignTtl(duration(PRESIGN_TTL, GatewayConfig.DEFAULT_PRESIGN_TTL))
                .withSizes(bool(UPSAMPLER) ? ImageSizes.WITH_UPSAMPLER : ImageSizes.BASE_ONLY)
                .withWebhooks(webhooks());
    }

    private GatewayPolicy policy() {
        String keysFile = text(API_KEYS_FILE, null);
        ApiKeys keys = ApiKeys.of(keysFile == null ? null : Path.of(keysFile), env.get(API_KEYS));
        AdmissionConfig.CostModel costModel = costModel();
        return new GatewayPolicy(new AccessConfig(keys, bool(OPEN)),
                new RateLimitConfig(decimal(RATE_LIMIT, RateLimitConfig.DEFAULT_PER_SECOND),
                        integer(RATE_BURST, RateLimitConfig.DEFAULT_BURST)),
                new AdmissionConfig(whole(MAX_BACKLOG, AdmissionConfig.DEFAULT_MAX_BACKLOG),
                        AdmissionConfig.DEFAULT_BACKLOG_REFRESH, costModel,
                        whole(MAX_COST, AdmissionConfig.DEFAULT_MAX_COST)),
                new RetentionConfig(duration(RETENTION, RetentionConfig.DEFAULT_RETENTION),
                        RetentionConfig.DEFAULT_SWEEP_INTERVAL));
    }

    private AdmissionConfig.CostModel costModel() {
        String value = text(COST_MODEL, AdmissionConfig.CostModel.ALL_STEPS.name());
        try {
            return AdmissionConfig.CostModel.valueOf(value);
        } catch (IllegalArgumentException e) {
            throw invalid(COST_MODEL, value, "one of " + Arrays.toString(AdmissionConfig.CostModel.values()));
        }
    }

    private WebhookConfig webhooks() {
        String allow = text(WEBHOOK_ALLOW, null);
        List<String> prefixes = allow == null ? List.of()
                : Arrays.stream(allow.split(",")).map(String::strip).filter(p -> !p.isEmpty()).toList();
        if (prefixes.isEmpty()) {
            return WebhookConfig.OFF;
        }
        String secret = env.get(WEBHOOK_SECRET);
        if (secret == null || secret.length() < MIN_WEBHOOK_SECRET_CHARS) {
            throw new IllegalArgumentException(WEBHOOK_ALLOW + " needs " + WEBHOOK_SECRET + " (at least "
                    + MIN_WEBHOOK_SECRET_CHARS + " characters) to sign the calls");
        }
        return WebhookConfig.allow(prefixes, secret.getBytes(StandardCharsets.UTF_8));
    }

    /** The value, or {@code fallback} when the variable is unset or empty (as picocli's {@code ${env:X:-d}}). */
    private String text(String name, String fallback) {
        String value = env.get(name);
        return value == null || value.isEmpty() ? fallback : value.strip();
    }

    private boolean bool(String name) {
        String value = text(name, "false");
        if (value.equalsIgnoreCase("true") || value.equalsIgnoreCase("false")) {
            return Boolean.parseBoolean(value);
        }
        throw invalid(name, value, "true or false");
    }

    private int integer(String name, int fallback) {
        String value = text(name, null);
        try {
            return value == null ? fallback : Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw invalid(name, value, "an integer");
        }
    }

    private long whole(String name, long fallback) {
        String value = text(name, null);
        try {
            return value == null ? fallback : Long.parseLong(value);
        } catch (NumberFormatException e) {
            throw invalid(name, value, "an integer");
        }
    }

    private double decimal(String name, double fallback) {
        String value = text(name, null);
        try {
            return value == null ? fallback : Double.parseDouble(value);
        } catch (NumberFormatException e) {
            throw invalid(name, value, "a number");
        }
    }

    private Duration duration(String name, Duration fallback) {
        String value = text(name, null);
        try {
            return value == null ? fallback : Duration.parse(value);
        } catch (DateTimeParseException e) {
            throw invalid(name, value, "an ISO-8601 duration such as PT1H or P7D");
        }
    }

    private static IllegalArgumentException invalid(String name, String value, String expected) {
        return new IllegalArgumentException(name + "=" + value + " is not " + expected);
    }
}
