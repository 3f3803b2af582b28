package dalle2.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class GatewayEnvironmentTest {

    @Test
    void withOnlyOpenModeSetTheDefaultsAreTheClis() {
        GatewayConfig config = GatewayEnvironment.config(Map.of("DALLE2_OPEN", "true"));
        assertEquals("127.0.0.1", config.host());
        assertEquals(8080, config.port());
        assertEquals("127.0.0.1:9092", config.kafkaBootstrap());
        assertEquals("dalle2-images", config.storage().bucket());
        assertEquals(GatewayConfig.DEFAULT_PRESIGN_TTL, config.presignTtl());
        assertFalse(config.sizes().upsamplerDeployed());
        assertTrue(config.policy().access().open());
        assertTrue(config.policy().access().keys().isEmpty());
        assertEquals(WebhookConfig.OFF, config.webhooks());
    }

    @Test
    void aContainerDeploymentIsReadFromItsVariables() {
        GatewayConfig config = GatewayEnvironment.config(Map.of(
                "DALLE2_HOST", "0.0.0.0", "DALLE2_PORT", "8081", "DALLE2_KAFKA", "kafka:9092",
                "DALLE2_S3", "http://minio:9000", "DALLE2_BUCKET", "images",
                "DALLE2_API_KEYS", "alice:0123456789abcdef0123", "DALLE2_UPSAMPLER", "true",
                "DALLE2_PRESIGN_TTL", "PT5M", "DALLE2_RETENTION", "P1D", "DALLE2_MAX_COST", "100"));
        assertEquals("0.0.0.0", config.host());
        assertEquals(8081, config.port());
        assertEquals("kafka:9092", config.kafkaBootstrap());
        assertEquals("http://minio:9000", config.storage().endpoint());
        assertEquals("images", config.storage().bucket());
        assertEquals(1, config.policy().access().keys().size());
        assertTrue(config.sizes().upsamplerDeployed());
        assertEquals(Duration.ofMinutes(5), config.presignTtl());
        assertEquals(Duration.ofDays(1), config.policy().retention().retention());
        assertEquals(100, config.policy().admission().maxCost());
    }

    @Test
    void neitherKeysNorOpenModeIsRefused() {
        IllegalArgumentException none = assertThrows(IllegalArgumentException.class,
                () -> GatewayEnvironment.config(Map.of()));
        assertTrue(none.getMessage().contains("DALLE2_API_KEYS"), none.getMessage());
    }

    @Test
    void anUnusableValueIsRefusedNamingItsVariable() {
        IllegalArgumentException port = assertThrows(IllegalArgumentException.class,
                () -> GatewayEnvironment.config(Map.of("DALLE2_OPEN", "true", "DALLE2_PORT", "eighty")));
        assertTrue(port.getMessage().contains("DALLE2_PORT=eighty"), port.getMessage());
        IllegalArgumentException open = assertThrows(IllegalArgumentException.class,
                () -> GatewayEnvironment.config(Map.of("DALLE2_OPEN", "yes")));
        assertTrue(open.getMessage().contains("DALLE2_OPEN"), open.getMessage());
        IllegalArgumentException webhook = assertThrows(IllegalArgumentException.class,
                () -> GatewayEnvironment.config(Map.of("DALLE2_OPEN", "true",
                        "DALLE2_WEBHOOK_ALLOW", "https://hooks.example.com/")));
        assertTrue(webhook.getMessage().contains("DALLE2_WEBHOOK_SECRET"), webhook.getMessage());
    }
}
