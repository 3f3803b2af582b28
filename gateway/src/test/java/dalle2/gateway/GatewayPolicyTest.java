package dalle2.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The settings records and the pieces that need no servers. */
class GatewayPolicyTest {

    private static final String KEY = "policy-key-0123456789abcdef";

    @Test
    void neitherKeysNorExplicitOpenModeRefusesToStartAndSaysWhatToGive() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new AccessConfig(ApiKeys.none(), false));
        assertTrue(e.getMessage().contains("--api-keys-file") && e.getMessage().contains("--open"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new AccessConfig(ApiKeys.parse(KEY), true));
    }

    @Test
    void keysAreReadFromAFileAndAVariableWithOptionalNamesAndNeverShown(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("keys");
        Files.writeString(file, "# comment\nops:" + KEY + "\n\n");
        ApiKeys keys = ApiKeys.of(file, "other-key-0123456789abcdef");
        assertEquals(2, keys.size());
        assertEquals("ops", keys.authenticate(KEY).orElseThrow().name());
        assertTrue(keys.authenticate("other-key-0123456789abcdef").orElseThrow().name().matches("key-[0-9a-f]{8}"),
                "an unnamed key is labelled by its hash");
        assertFalse(keys.authenticate(KEY + " ").isPresent());
        assertFalse(keys.toString().contains(KEY));
        assertEquals(64, keys.authenticate(KEY).orElseThrow().scope().length(), "the scope is a SHA-256 in hex");
        IllegalArgumentException shortKey = assertThrows(IllegalArgumentException.class,
                () -> ApiKeys.parse("name:short"));
        assertFalse(shortKey.getMessage().contains("short"), "the error names the line, not the key");
    }

    @Test
    void aTokenBucketGivesItsBurstThenRefillsAtItsRate() {
        TokenBucket bucket = new TokenBucket(new RateLimitConfig(2.0, 3), 0);
        for (int i = 0; i < 3; i++) {
            assertEquals(0, bucket.tryTake(0));
        }
        assertEquals(1, bucket.tryTake(0), "a token in half a second: Retry-After rounds up to 1 s");
        assertEquals(0, bucket.tryTake(500_000_000L));
        assertEquals(1, bucket.tryTake(500_000_000L));
        assertThrows(IllegalArgumentException.class, () -> new RateLimitConfig(0, 1));
        assertThrows(IllegalArgumentException.class, () -> new RateLimitConfig(Double.NaN, 1));
    }

    @Test
    void keyedBucketsAreSeparatePerKeyAndAnUnlimitedConfigNeverRefuses() {
        long[] now = {0};
        KeyedBuckets buckets = new KeyedBuckets(new RateLimitConfig(1.0, 2), () -> now[0]);
        assertEquals(0, buckets.tryTake("a"));
        assertEquals(0, buckets.tryTake("a"));
        assertEquals(1, buckets.tryTake("a"));
        assertEquals(0, buckets.tryTake("b"), "another key has its own bucket");
        now[0] = 1_000_000_000L;
        assertEquals(0, buckets.tryTake("a"), "a second later a token is back");
        KeyedBuckets unlimited = new KeyedBuckets(RateLimitConfig.unlimited(), () -> 0);
        for (int i = 0; i < 10_000; i++) {
            assertEquals(0, unlimited.tryTake("a"));
        }
    }

    @Test
    void thePresignTtlAndTheRetentionAreBounded() {
        GatewayConfig base = GatewayConfig.of("127.0.0.1", 0, "k:9092",
                new dalle2.storage.ObjectStore.Config("http://s3", "a", "b", "bucket"));
        assertThrows(IllegalArgumentException.class, () -> base.withPresignTtl(Duration.ZERO));
        assertThrows(IllegalArgumentException.class, () -> base.withPresignTtl(Duration.ofDays(2)));
        assertEquals(Duration.ofMinutes(5), base.withPresignTtl(Duration.ofMinutes(5)).presignTtl());
        assertThrows(IllegalArgumentException.class, () -> new RetentionConfig(Duration.ZERO, Duration.ofSeconds(1)));
    }

    @Test
    void aWellFormedPathHasOnlyCompletePercentEscapes() {
        assertTrue(PathEncoding.wellFormed("/v1/generations/a%20b"));
        assertFalse(PathEncoding.wellFormed("/v1/generations/%zz"));
        assertFalse(PathEncoding.wellFormed("/v1/generations/a%2"));
    }
}
