package dalle2.gateway;

import dalle2.storage.ObjectStore;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Presigned GET URLs of images, each reused for a tenth of its lifetime: signing is an HMAC chain per image, and a
 * client polling a finished job would otherwise pay one per image per poll. A URL handed out is therefore valid
 * for at least nine tenths of the configured lifetime, and its answer states the URL's own expiry. The map is
 * bounded like {@link KeyedBuckets}: past {@link #MAX_ENTRIES} it starts over.
 */
final class PresignedUrls {

    /** More images than a poll burst touches; beyond it the cache is rebuilt rather than grown. */
    static final int MAX_ENTRIES = 10_000;
    /** A URL is signed again once this fraction of its lifetime has passed. */
    static final int REUSE_FRACTION = 10;

    /** A presigned URL and the instant it stops working. */
    record Signed(String url, Instant expiresAt) {
    }

    private final ObjectStore store;
    private final Duration ttl;
    private final Duration reuse;
    private final Clock clock;
    private final ConcurrentHashMap<String, Signed> signed = new ConcurrentHashMap<>();

    PresignedUrls(ObjectStore store, Duration ttl, Clock clock) {
        this.store = store;
        this.ttl = ttl;
        this.reuse = ttl.dividedBy(REUSE_FRACTION);
        this.clock = clock;
    }

    /** The URL of {@code key} if one signed recently is still fresh, else null (cheap: for the event loop). */
    Signed cached(String key) {
        Signed s = signed.get(key);
        if (s == null) {
            return null;
        }
        Instant signedAt = s.expiresAt().minus(ttl);
        return clock.instant().isBefore(signedAt.plus(reuse)) ? s : null;
    }

    /** A fresh URL of {@code key}, signed now and remembered (CPU work: off the event loop). */
    Signed sign(String key) {
        Instant now = clock.instant();
        Signed s = new Signed(store.presignedGet(key, ttl), now.plus(ttl));
        if (signed.size() >= MAX_ENTRIES && !signed.containsKey(key)) {
            signed.clear();
        }
        signed.put(key, s);
        return s;
    }

    /** The URL of {@code key}: the cached one while fresh, else a new one. */
    Signed get(String key) {
        Signed s = cached(key);
        return s != null ? s : sign(key);
    }
}
