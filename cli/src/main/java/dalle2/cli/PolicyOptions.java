package dalle2.cli;

import dalle2.gateway.AccessConfig;
import dalle2.gateway.AdmissionConfig;
import dalle2.gateway.ApiKeys;
import dalle2.gateway.GatewayPolicy;
import dalle2.gateway.RateLimitConfig;
import dalle2.gateway.RetentionConfig;
import java.nio.file.Path;
import java.time.Duration;
import picocli.CommandLine.Option;

/**
 * The gateway's access, limits and retention: options, or environment variables. Keys are read from a file or
 * from {@value #KEYS_ENV}, never from the command line (where {@code ps} would show them).
 */
public final class PolicyOptions {

    static final String KEYS_ENV = "DALLE2_API_KEYS";

    @Option(names = "--api-keys-file", paramLabel = "FILE", defaultValue = "${env:DALLE2_API_KEYS_FILE}",
            description = "API keys, one a line, optionally name:key (env DALLE2_API_KEYS_FILE; keys may also be "
                    + "given in env " + KEYS_ENV + ", separated by commas or newlines)")
    Path apiKeysFile;

    @Option(names = "--open", defaultValue = "${env:DALLE2_OPEN:-false}", fallbackValue = "true", arity = "0..1",
            description = "serve the API without API keys (env DALLE2_OPEN; default ${DEFAULT-VALUE})")
    boolean open;

    @Option(names = "--rate-limit", paramLabel = "PER_SECOND",
            defaultValue = "${env:DALLE2_RATE_LIMIT:-" + RateLimitConfig.DEFAULT_PER_SECOND + "}",
            description = "requests per second per API key (env DALLE2_RATE_LIMIT; default ${DEFAULT-VALUE})")
    double ratePerSecond;

    @Option(names = "--rate-burst", defaultValue = "${env:DALLE2_RATE_BURST:-" + RateLimitConfig.DEFAULT_BURST + "}",
            description = "burst per API key (env DALLE2_RATE_BURST; default ${DEFAULT-VALUE})")
    int rateBurst;

    @Option(names = "--max-backlog",
            defaultValue = "${env:DALLE2_MAX_BACKLOG:-" + AdmissionConfig.DEFAULT_MAX_BACKLOG + "}",
            description = "refuse submissions (503) while more requests wait for the prior pool "
                    + "(env DALLE2_MAX_BACKLOG; default ${DEFAULT-VALUE})")
    long maxBacklog;

    @Option(names = "--max-cost", defaultValue = "${env:DALLE2_MAX_COST:-" + AdmissionConfig.DEFAULT_MAX_COST + "}",
            description = "most denoising steps one request may cost (env DALLE2_MAX_COST; default ${DEFAULT-VALUE})")
    long maxCost;

    @Option(names = "--cost-model", defaultValue = "${env:DALLE2_COST_MODEL:-ALL_STEPS}",
            description = "ALL_STEPS = n × (prior_steps + decoder_steps), DECODER_STEPS = n × decoder_steps "
                    + "(env DALLE2_COST_MODEL; default ${DEFAULT-VALUE})")
    AdmissionConfig.CostModel costModel;

    @Option(names = "--retention", paramLabel = "DURATION", defaultValue = "${env:DALLE2_RETENTION:-P7D}",
            description = "finished jobs' statuses and images expire after (ISO-8601; env DALLE2_RETENTION; "
                    + "default ${DEFAULT-VALUE})")
    Duration retention;

    /**
     * The policy these options give.
     *
     * @param loopbackStack the embedded one-machine stack, which binds 127.0.0.1 only: without keys it serves in
     *                      open mode (the gateway logs it), so the README's first command needs no setup
     */
    GatewayPolicy policy(boolean loopbackStack) {
        ApiKeys keys = ApiKeys.of(apiKeysFile, System.getenv(KEYS_ENV));
        AccessConfig access = new AccessConfig(keys, open || (loopbackStack && keys.isEmpty()));
        return new GatewayPolicy(access, new RateLimitConfig(ratePerSecond, rateBurst),
                new AdmissionConfig(maxBacklog, AdmissionConfig.DEFAULT_BACKLOG_REFRESH, costModel, maxCost),
                new RetentionConfig(retention, RetentionConfig.DEFAULT_SWEEP_INTERVAL));
    }
}
