package dalle2.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle2.gateway.AdmissionConfig;
import dalle2.gateway.GatewayPolicy;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The access, limit and retention options of {@code gateway} and {@code up}. */
class GatewayCommandOptionsTest {

    private static final String KEY = "cli-key-0123456789abcdef";

    @SuppressWarnings("unchecked")
    private static <T> T parse(String... args) {
        CommandLine cli = new CommandLine(new Main());
        CommandLine.ParseResult result = cli.parseArgs(args);
        return (T) result.subcommand().commandSpec().userObject();
    }

    @Test
    void aGatewayWithNeitherKeysNorOpenModeRefusesToStartWithAClearMessageBeforeConnecting() {
        StringWriter err = new StringWriter();
        int code = new CommandLine(new Main()).setErr(new PrintWriter(err))
                .execute("gateway", "--kafka", "127.0.0.1:1", "--s3", "http://127.0.0.1:1");
        assertEquals(1, code);
        assertTrue(err.toString().contains("no API keys configured"), err.toString());
        assertTrue(err.toString().contains("--open"), err.toString());
    }

    @Test
    void theGatewayReadsKeysFromAFileOrRunsOpenOnlyWhenAsked(@TempDir Path dir) throws Exception {
        Path keys = dir.resolve("keys");
        Files.writeString(keys, "ops:" + KEY + "\n");
        GatewayCommand withKeys = parse("gateway", "--api-keys-file", keys.toString(), "--rate-limit", "2.5",
                "--rate-burst", "7", "--max-backlog", "11", "--max-cost", "123", "--cost-model", "DECODER_STEPS",
                "--retention", "PT1H", "--presign-ttl", "PT5M");
        GatewayPolicy p = withKeys.policy.policy(false);
        assertFalse(p.access().open());
        assertEquals("ops", p.access().keys().authenticate(KEY).orElseThrow().name());
        assertEquals(2.5, p.rateLimit().perSecond());
        assertEquals(7, p.rateLimit().burst());
        assertEquals(11, p.admission().maxBacklog());
        assertEquals(123, p.admission().maxCost());
        assertEquals(AdmissionConfig.CostModel.DECODER_STEPS, p.admission().costModel());
        assertEquals(Duration.ofHours(1), p.retention().retention());
        assertEquals(Duration.ofMinutes(5), withKeys.presignTtl);

        GatewayCommand open = parse("gateway", "--open");
        assertTrue(open.policy.policy(false).access().open());
    }

    @Test
    void theLoopbackStackIsOpenWithoutKeysAndRequiresThemWhenGiven(@TempDir Path dir) throws Exception {
        UpCommand up = parse("up");
        assertTrue(up.policy.policy(true).access().open(), "the README's first command needs no key");
        Path keys = dir.resolve("keys");
        Files.writeString(keys, KEY + "\n");
        UpCommand withKeys = parse("up", "--api-keys-file", keys.toString());
        assertFalse(withKeys.policy.policy(true).access().open());
    }
}
