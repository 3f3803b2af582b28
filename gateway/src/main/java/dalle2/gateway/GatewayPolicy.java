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
