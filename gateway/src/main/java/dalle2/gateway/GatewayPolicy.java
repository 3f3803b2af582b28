package dalle2.gateway;

/** Who may call the gateway, how often, how much it admits, and how long it keeps what it made. */
public record GatewayPolicy(AccessConfig access, RateLimitConfig rateLimit, AdmissionConfig admission,
                            RetentionConfig retention) {

    public GatewayPolicy {
        if (access == null || rateLimit == null || admission == null || retention == null) {
            throw new IllegalArgumentException("access, rate limit, admission and retention settings are required");
        }
    }

    /** The default limits with the given access. */
    public static GatewayPolicy of(AccessConfig access) {
        return new GatewayPolicy(access, RateLimitConfig.defaults(), AdmissionConfig.defaults(),
                RetentionConfig.defaults());
    }

    /**
     * Explicit open mode without a rate limit or cost cap, for a gateway on loopback that only its own process
     * calls (tests, benchmarks that poll every few milliseconds, {@code generate} on the embedded stack); the
     * backlog bound and the retention still apply.
     */
    public static GatewayPolicy loopback() {
        return new GatewayPolicy(AccessConfig.openMode(), RateLimitConfig.unlimited(), AdmissionConfig.backlogOnly(),
                RetentionConfig.defaults());
    }

    public GatewayPolicy withRateLimit(RateLimitConfig r) {
        return new GatewayPolicy(access, r, admission, retention);
    }

    public GatewayPolicy withAdmission(AdmissionConfig a) {
        return new GatewayPolicy(access, rateLimit, a, retention);
    }

    public GatewayPolicy withRetention(RetentionConfig r) {
        return new GatewayPolicy(access, rateLimit, admission, r);
    }
}
