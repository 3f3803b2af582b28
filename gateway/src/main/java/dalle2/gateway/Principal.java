package dalle2.gateway;

/**
 * Who made a request.
 *
 * @param name  the key's name (for logs and metrics; never the key)
 * @param scope a stable identity of the key on every gateway instance (the hex SHA-256 of the key), which scopes
 *              idempotency keys and rate limits
 */
public record Principal(String name, String scope) {

    /** Every caller in open mode. */
    public static final Principal OPEN = new Principal("open", "open");

    /** Where handlers find the caller in the routing context. */
    static final String CONTEXT_KEY = "dalle2.principal";

    /**
     * The caller as its jobs' requests name it ({@code owner}): a name-based UUID of the scope, so the records say
     * whose job it is without carrying the key or its plain hash.
     */
    public String owner() {
        return java.util.UUID.nameUUIDFromBytes(("owner:" + scope).getBytes(java.nio.charset.StandardCharsets.UTF_8))
                .toString();
    }
}
