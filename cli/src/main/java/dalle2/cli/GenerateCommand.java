package dalle2.cli;

import dalle2.inference.ContactSheet;
import dalle2.json.Json;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import javax.imageio.ImageIO;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code dalle2 generate "PROMPT"}: submits over HTTP, polls, writes the PNGs and a contact sheet. Without
 * {@code --gateway} it starts the embedded stack for the duration.
 */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Generate images for a prompt (starts the embedded stack unless --gateway is given).")
public final class GenerateCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "PROMPT")
    String prompt;

    @Option(names = "--n", defaultValue = "4", description = "images (1-8, default ${DEFAULT-VALUE})")
    int n;

    @Option(names = "--seed", description = "seed (random when absent)")
    Long seed;

    @Option(names = "--out", defaultValue = "out", description = "output folder (default ${DEFAULT-VALUE})")
    Path out;

    @Option(names = "--gateway", description = "URL of a running gateway, e.g. http://127.0.0.1:8080")
    String gateway;

    @Option(names = "--api-key", defaultValue = "${env:DALLE2_API_KEY}",
            description = "API key for --gateway (env DALLE2_API_KEY; prefer the variable: options show in ps)")
    String apiKey;

    @Option(names = "--data-dir", defaultValue = "data", description = "embedded stack data (default ${DEFAULT-VALUE})")
    Path dataDir;

    @Option(names = "--models", defaultValue = "trained_models", description = "model folder (default ${DEFAULT-VALUE})")
    Path models;

    @Option(names = "--prior-steps", description = "prior DDIM steps")
    Integer priorSteps;

    @Option(names = "--decoder-steps", description = "decoder DDIM steps")
    Integer decoderSteps;

    @Option(names = "--timeout", defaultValue = "PT30M", description = "give up after (ISO-8601, default ${DEFAULT-VALUE})")
    Duration timeout;

    @Override
    public Integer call() throws Exception {
        if (gateway != null) {
            return run(gateway);
        }
        dalle2.inference.ModelProvider provider = ModelFactory.load(models);
        try (EmbeddedStack stack = EmbeddedStack.start(dataDir, 0, 1, 1, provider)) {
            return run(stack.gatewayUrl());
        }
    }

    private int run(String base) throws Exception {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("prompt", prompt);
        body.put("n", n);
        if (seed != null) {
            body.put("seed", seed);
        }
        if (priorSteps != null) {
            body.put("prior_steps", priorSteps);
        }
        if (decoderSteps != null) {
            body.put("decoder_steps", decoderSteps);
        }
        List<Path> files = generate(HttpClient.newHttpClient(), base, apiKey, Json.write(body), out, timeout);
        files.forEach(f -> System.out.println(f.toAbsolutePath()));
        return 0;
    }

    /** Submits one job to a gateway, waits for it, writes {@code <k>.png} and {@code contact-sheet.png}. */
    public static List<Path> generate(HttpClient http, String base, String requestJson, Path out, Duration timeout)
            throws IOException, InterruptedException {
        return generate(http, base, null, requestJson, out, timeout);
    }

    /** As above, sending {@code Authorization: Bearer <apiKey>} when a key is given. */
    public static List<Path> generate(HttpClient http, String base, String apiKey, String requestJson, Path out,
                                      Duration timeout) throws IOException, InterruptedException {
        HttpResponse<String> submitted = http.send(request(base + "/v1/generations", apiKey)
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(requestJson))
                .build(), HttpResponse.BodyHandlers.ofString());
        if (submitted.statusCode() != 202 && submitted.statusCode() != 200) {
            throw new IllegalStateException("submission refused: " + submitted.statusCode() + " " + submitted.body());
        }
        String self = Json.mapper().readTree(submitted.body()).path("links").path("self").asText();
        long deadline = System.nanoTime() + timeout.toNanos();
        var status = Json.mapper().readTree("{}");
        String state = "";
        while (!state.equals("succeeded")) {
            if (state.equals("failed") || state.equals("cancelled")) {
                throw new IllegalStateException("generation " + state + ": " + status.path("error"));
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("generation not finished after " + timeout + " (state " + state + ")");
            }
            Thread.sleep(state.isEmpty() ? 0 : 200);
            status = Json.mapper().readTree(http.send(request(base + self, apiKey).build(),
                    HttpResponse.BodyHandlers.ofString()).body());
            state = status.path("state").asText();
        }
        Files.createDirectories(out);
        List<Path> files = new ArrayList<>();
        List<BufferedImage> images = new ArrayList<>();
        for (var image : status.path("images")) {
            byte[] png = http.send(request(base + image.path("url").asText(), apiKey).build(),
                    HttpResponse.BodyHandlers.ofByteArray()).body();
            Path file = out.resolve(image.path("index").asInt() + ".png");
            Files.write(file, png);
            files.add(file);
            images.add(ImageIO.read(new ByteArrayInputStream(png)));
        }
        Path sheet = out.resolve("contact-sheet.png");
        ContactSheet.write(images, 4, sheet);
        files.add(sheet);
        return files;
    }

    private static HttpRequest.Builder request(String url, String apiKey) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url));
        return apiKey == null || apiKey.isBlank() ? b : b.header("Authorization", "Bearer " + apiKey);
    }
}
