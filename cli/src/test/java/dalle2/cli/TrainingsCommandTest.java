package dalle2.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle2.embedded.EmbeddedServersExtension;
import dalle2.gateway.AccessConfig;
import dalle2.gateway.ApiKeys;
import dalle2.gateway.Gateway;
import dalle2.gateway.GatewayConfig;
import dalle2.gateway.GatewayPolicy;
import dalle2.storage.ObjectStore;
import dalle2.trainer.worker.TrainerWorker;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code dalle2 trainings submit --wait} through a gateway with API keys to a trainer worker, on the embedded servers. */
class TrainingsCommandTest {

    @RegisterExtension
    static final EmbeddedServersExtension servers = EmbeddedServersExtension.kafkaAndS3();

    private static final String KEY = "trainings-cli-key-0123456789";

    @TempDir
    Path dir;

    @Test
    void submitWaitFollowsATrainingToItsPublishedVersion() throws Exception {
        writeSquares(dir.resolve("data/squares"));
        ObjectStore store = servers.closeAfterAll(new ObjectStore(servers.storage("images")));
        store.ensureBucket();
        Gateway gateway = servers.closeAfterAll(Gateway.start(GatewayConfig.of("127.0.0.1", 0, servers.bootstrap(),
                servers.storage("images"), GatewayPolicy.of(AccessConfig.keys(ApiKeys.parse(KEY))))));
        // closed within the test: its training writes under the temporary folder, which is deleted after it
        try (TrainerWorker worker = new TrainerWorker(new TrainerWorker.Config(servers.bootstrap(), "trainer-cli",
                dir.resolve("data"), dir.resolve("work"), null, Duration.ofSeconds(30)), store).start()) {
            submitAndCancelThroughTheCli(gateway);
        }
    }

    private void submitAndCancelThroughTheCli(Gateway gateway) throws Exception {

        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream original = System.out;
        int code;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            code = new CommandLine(new Main()).execute("trainings", "submit", "--gateway",
                    "http://127.0.0.1:" + gateway.port(), "--api-key", KEY, "--model", "clip", "--dataset",
                    "jsonl:squares", "--steps", "3", "--set", "batch_size=4", "--set", "embedding_dim=32",
                    "--set", "context_length=8", "--set", "log_interval=1", "--set", "warmup=1", "--wait");
        } finally {
            System.setOut(original);
        }
        String printed = out.toString(StandardCharsets.UTF_8);
        assertEquals(0, code, printed);
        assertTrue(printed.contains("queued") && printed.contains("published clip@"), printed);
        assertTrue(printed.contains("on trainer-cli"), printed);

        // a long one, cancelled from the CLI once it runs: its worker stops it, and following it says so
        String gatewayUrl = "http://127.0.0.1:" + gateway.port();
        String submitted = cli("trainings", "submit", "--gateway", gatewayUrl, "--api-key", KEY, "--model", "clip",
                "--dataset", "jsonl:squares", "--steps", "5000", "--set", "batch_size=4", "--set", "embedding_dim=32",
                "--set", "context_length=8", "--set", "log_interval=1", "--set", "warmup=1");
        String id = submitted.strip().split(" ")[1]; // "training <id> queued"
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.MINUTES.toNanos(1);
        while (!cli("trainings", "get", id, "--gateway", gatewayUrl, "--api-key", KEY).contains("\"running\"")
                && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        String cancelled = cli("trainings", "cancel", id, "--gateway", gatewayUrl, "--api-key", KEY);
        assertTrue(cancelled.contains("\"cancelled\""), cancelled);
        String listed = cli("trainings", "list", "--gateway", gatewayUrl, "--api-key", KEY);
        assertTrue(listed.startsWith(id + " cancelled clip "), "the newest first: " + listed);
        assertTrue(listed.lines().anyMatch(l -> l.contains(" succeeded clip 3/3 clip@")), listed);
        System.setOut(new PrintStream(out = new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
        try {
            code = new CommandLine(new Main()).execute("trainings", "get", id, "--gateway", gatewayUrl, "--api-key",
                    KEY, "--wait");
        } finally {
            System.setOut(original);
        }
        assertEquals(1, code, "a cancelled training did not succeed: " + out);
    }

    /** Runs the CLI, returning what it printed on stdout; fails on a non-zero exit. */
    private static String cli(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream original = System.out;
        int code;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            code = new CommandLine(new Main()).execute(args);
        } finally {
            System.setOut(original);
        }
        String printed = out.toString(StandardCharsets.UTF_8);
        assertEquals(0, code, String.join(" ", args) + ": " + printed);
        return printed;
    }

    @Test
    void hyperParametersAreTypedAsTheModelTakesThemAndAnUnknownOneIsNamed() {
        assertEquals(Map.of("batch_size", 16L, "lr", 3e-4, "channel_mult", List.of(1, 2, 2), "scale_shift", true),
                TrainingsCommand.hyperParameters("decoder", List.of("batch_size=16", "lr=3e-4", "channel_mult=1,2,2",
                        "scale-shift=true")));
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class,
                () -> TrainingsCommand.hyperParameters("prior", List.of("crop=64")));
        assertTrue(unknown.getMessage().contains("--set crop"), unknown.getMessage());
        IllegalArgumentException badValue = assertThrows(IllegalArgumentException.class,
                () -> TrainingsCommand.hyperParameters("prior", List.of("width=wide")));
        assertTrue(badValue.getMessage().contains("--set width"), badValue.getMessage());
    }

    /** Four 32 px squares captioned with their colour, in {@code folder/captions.jsonl} (also for other tests). */
    static void writeSquares(Path folder) throws Exception {
        Files.createDirectories(folder);
        Color[] colours = {Color.RED, Color.GREEN, Color.BLUE, Color.YELLOW};
        String[] names = {"red", "green", "blue", "yellow"};
        StringBuilder jsonl = new StringBuilder();
        for (int i = 0; i < colours.length; i++) {
            BufferedImage image = new BufferedImage(32, 32, BufferedImage.TYPE_INT_RGB);
            var g = image.createGraphics();
            g.setColor(colours[i]);
            g.fillRect(8, 8, 16, 16);
            g.dispose();
            ImageIO.write(image, "png", folder.resolve(i + ".png").toFile());
            jsonl.append("{\"image\": \"").append(i).append(".png\", \"caption\": \"a ").append(names[i])
                    .append(" square\"}\n");
        }
        Files.writeString(folder.resolve("captions.jsonl"), jsonl);
    }
}
