package dalle2.gateway;

import java.nio.charset.StandardCharsets;
import java.util.UUID;

/**
 * The job id (and default seed) an Idempotency-Key stands for. It depends on the key and on the caller's scope
 * (the hash of its API key) only, so every gateway instance derives the same id for the same caller and key, while
 * two callers who happen to choose the same key get two jobs: neither replays the other's job or learns its id.
 */
public final class IdempotentJobIds {

    static final String PREFIX = "idem-";
    /** The scope is hex or "open", never containing a newline: the separator keeps (scope, key) pairs apart. */
    private static final char SEPARATOR = '\n';

    private IdempotentJobIds() {
    }

    public static String jobId(Principal caller, String idempotencyKey) {
        return PREFIX + uuid("idempotency:", caller, idempotencyKey);
    }

    /** The seed of a request sent with an Idempotency-Key and no seed: a replay draws the same images. */
    public static long seed(Principal caller, String idempotencyKey) {
        return uuid("seed:", caller, idempotencyKey).getMostSignificantBits() & Long.MAX_VALUE;
    }

    private static UUID uuid(String purpose, Principal caller, String idempotencyKey) {
        String name = purpose + caller.scope() + SEPARATOR + idempotencyKey;
        return UUID.nameUUIDFromBytes(name.getBytes(StandardCharsets.UTF_8));
    }
}
