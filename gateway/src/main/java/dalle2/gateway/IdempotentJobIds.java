package dalle2.gateway;

import java.nio.charset.StandardCharsets;
import java.util.UUID;

/**
 * The job id an Idempotency-Key stands for. It depends on the key and on the caller's scope (the hash of its API
 * key) only, so every gateway instance derives the same id for the same caller and key, and two callers who
 * happen to choose the same key get two jobs and cannot read or replay each other's.
 */
public final class IdempotentJobIds {

    static final String PREFIX = "idem-";
    /** The scope is hex or "open", never containing a newline: the separator keeps (scope, key) pairs apart. */
    private static final char SEPARATOR = '\n';

    private IdempotentJobIds() {
    }

    public static String jobId(Principal caller, String idempotencyKey) {
        String name = "idempotency:" + caller.scope() + SEPARATOR + idempotencyKey;
        return PREFIX + UUID.nameUUIDFromBytes(name.getBytes(StandardCharsets.UTF_8));
    }
}
