package dalle2.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle2.storage.ObjectStore;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;

/** The status answer's presigned URLs: signed once per tenth of their lifetime, never handed out nearly expired. */
class PresignedUrlsTest {

    /** A clock the test moves by hand. */
    private static final class HandClock extends Clock {
        Instant now = Instant.parse("2026-01-01T00:00:00Z");

        @Override
        public ZoneOffset getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }

    // presigning is local computation: the endpoint is never contacted
    private static ObjectStore store() {
        return new ObjectStore(new ObjectStore.Config("http://127.0.0.1:9", "access", "secret-key", "images"));
    }

    @Test
    void aUrlIsReusedForATenthOfItsLifetimeThenSignedAgainAndItsExpiryIsItsOwn() throws Exception {
        HandClock clock = new HandClock();
        Duration ttl = Duration.ofHours(1);
        try (ObjectStore store = store()) {
            PresignedUrls urls = new PresignedUrls(store, ttl, clock);
            assertNull(urls.cached("job/0.png"), "nothing is cached before the first signature");
            Instant signedAt = clock.now;
            PresignedUrls.Signed first = urls.get("job/0.png");
            assertEquals(signedAt.plus(ttl), first.expiresAt());
            assertTrue(first.url().contains("X-Amz-Signature="), first.url());

            clock.now = signedAt.plus(ttl.dividedBy(PresignedUrls.REUSE_FRACTION)).minusSeconds(1);
            assertSame(first, urls.cached("job/0.png"), "still fresh: the same URL, no new signature");
            assertSame(first, urls.get("job/0.png"));
            assertNull(urls.cached("job/1.png"), "another image has its own URL");

            clock.now = signedAt.plus(ttl.dividedBy(PresignedUrls.REUSE_FRACTION));
            assertNull(urls.cached("job/0.png"), "a tenth of the lifetime has passed: it is signed again");
            PresignedUrls.Signed second = urls.get("job/0.png");
            assertNotSame(first, second);
            assertEquals(clock.now.plus(ttl), second.expiresAt());
            assertTrue(Duration.between(clock.now, second.expiresAt()).compareTo(ttl.multipliedBy(9).dividedBy(10)) >= 0,
                    "a URL handed out has at least nine tenths of its lifetime left");
        }
    }

    @Test
    void theCacheIsBounded() throws Exception {
        HandClock clock = new HandClock();
        try (ObjectStore store = store()) {
            PresignedUrls urls = new PresignedUrls(store, Duration.ofHours(1), clock);
            PresignedUrls.Signed kept = urls.get("job/first.png");
            for (int i = 0; i < PresignedUrls.MAX_ENTRIES; i++) {
                urls.get("job/" + i + ".png");
            }
            assertNull(urls.cached("job/first.png"), "past the bound the cache starts over");
            assertTrue(kept.expiresAt().isAfter(clock.now));
        }
    }
}
