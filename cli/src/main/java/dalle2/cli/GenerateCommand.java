package dalle2.cli;

import dalle2.inference.ContactSheet;
import dalle2.json.Json;
import dalle2.messages.GenerationRequest;
import dalle2.messages.SamplerKind;
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

    @picocli.CommandLine.Mixin
    SubmissionTarget target = new SubmissionTarget();

    @Option(names = "--n", defaultValue = "4", description = "images (1-" + MAX_TOTAL_IMAGES + ", default "
            + "${DEFAULT-VALUE}); more than " + GenerationRequest.MAX_IMAGES + " are submitted as several jobs of at most "
            + GenerationRequest.MAX_IMAGES + ", job j with seed + j")
    int n;

    /** Most images one command asks for: a bound on what one line of a shell can queue. */
    static final int MAX_TOTAL_IMAGES = 256;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--seed", description = "seed (random when absent)")
    Long seed;

    @Option(names = "--prior-steps", description = "prior sampler steps")
    Integer priorSteps;

    @Option(names = "--decoder-steps", description = "decoder sampler steps")
    Integer decoderSteps;

    @Option(names = "--prior-guidance", description = "prior classifier-free guidance scale")
    Double priorGuidance;

    @Option(names = "--decoder-guidance", description = "decoder classifier-free guidance scale")
    Double decoderGuidance;

    @Option(names = "--eta", description = "DDIM stochasticity, 0 (deterministic) to 1")
    Double eta;

    @Option(names = "--webhook", description = "URL the gateway POSTs each job's final state to (it must be on the "
            + "gateway's allow-list)")
    String webhook;

    @Option(names = "--sampler", converter = SamplerOption.class,
            description = "the decoder's sampler, and the prior's unless --prior-sampler names another: "
                    + SamplerOption.DESCRIPTION + " (default: the gateway's, dpmpp-2m, or ddim with --eta above 0)")
    SamplerKind sampler;

    @Option(names = "--prior-sampler", converter = SamplerOption.class,
            description = "the prior's sampler (default: --sampler when given, else the gateway's, dpmpp-2m)")
    SamplerKind priorSampler;

    @Option(names = "--size", description = "image side in pixels: 32, 64, 128 or 256 (default: the gateway's, "
            + "256 with an upsampler model, else 32)")
    Integer size;

    @Override
    public Integer call() throws Exception {
        if (n < 1 || n > MAX_TOTAL_IMAGES) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                    "--n must be in 1.." + MAX_TOTAL_IMAGES + ", got " + n);
        }
        if (size != null && !GenerationRequest.SIZES.contains(size)) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                    "--size must be one of " + GenerationRequest.SIZES + ", got " + size);
        }
        try {
            return target.run(this::run);
        } catch (GenerationFailedException e) {
            spec.commandLine().getErr().println("generate: " + e.getMessage());
            return 1;
        }
    }

    private int run(String base) throws Exception {
        List<Path> files = generate(HttpClient.newHttpClient(), base, target.apiKey, requestBodies(), target.out,
                target.timeout);
        files.forEach(f -> System.out.println(f.toAbsolutePath()));
        return 0;
    }

    /** One job per {@value GenerationRequest#MAX_IMAGES} images; job j draws with seed + j when a seed is given. */
    List<String> requestBodies() {
        List<String> bodies = new ArrayList<>();
        for (int first = 0, job = 0; first < n; first += GenerationRequest.MAX_IMAGES, job++) {
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("prompt", prompt);
            body.put("n", Math.min(GenerationRequest.MAX_IMAGES, n - first));
            if (seed != null) {
                body.put("seed", (seed + job) & Long.MAX_VALUE);
            }
            if (priorSteps != null) {
                body.put("prior_steps", priorSteps);
            }
            if (decoderSteps != null) {
                body.put("decoder_steps", decoderSteps);
            }
            if (priorGuidance != null) {
                body.put("prior_guidance", priorGuidance);
            }
            if (decoderGuidance != null) {
                body.put("decoder_guidance", decoderGuidance);
            }
            if (eta != null) {
                body.put("eta", eta);
            }
            if (sampler != null) {
                body.put("sampler", sampler.configName());
            }
            if (priorSampler != null) {
                body.put("prior_sampler", priorSampler.configName());
            }
            if (size != null) {
                body.put("size", size);
            }
            if (webhook != null) {
                body.put("webhook", webhook);
            }
            bodies.add(Json.write(body));
        }
        return bodies;
    }

    /** A job was refused or did not succeed; the message is one line a person can act on. */
    static final class GenerationFailedException extends IllegalStateException {
        GenerationFailedException(String message) {
            super(message);
        }
    }

    /** Submits one job to a gateway, waits for it, writes {@code <k>.png} and {@code contact-sheet.png}. */
    public static List<Path> generate(HttpClient http, String base, String requestJson, Path out, Duration timeout)
            throws IOException, InterruptedException {
        return generate(http, base, null, List.of(requestJson), out, timeout);
    }

    /**
     * Submits every job, then waits for all of them and writes their images numbered in order ({@code 0.png} …)
     * and one contact sheet.
     */
    public static List<Path> generate(HttpClient http, String base, String apiKey, List<String> requestJsons,
                                      Path out, Duration timeout) throws IOException, InterruptedException {
        List<String> selves = new ArrayList<>();
        for (String requestJson : requestJsons) {
            HttpResponse<String> submitted = http.send(request(base + "/v1/generations", apiKey)
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(requestJson))
                    .build(), HttpResponse.BodyHandlers.ofString());
            if (submitted.statusCode() != 202 && submitted.statusCode() != 200) {
                throw new GenerationFailedException("the gateway refused the request: " + describeError(submitted));
            }
            selves.add(Json.mapper().readTree(submitted.body()).path("links").path("self").asText());
        }
        return collect(http, base, apiKey, selves, out, timeout);
    }

    /**
     * Waits for the submitted jobs (their {@code self} links) and writes their images numbered in order and one
     * contact sheet: what {@code generate} and {@code vary} do once the gateway took their jobs.
     */
    static List<Path> collect(HttpClient http, String base, String apiKey, List<String> selves, Path out,
                              Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        List<com.fasterxml.jackson.databind.JsonNode> finished = new ArrayList<>();
        for (String self : selves) {
            finished.add(await(http, base, apiKey, self, deadline, timeout));
        }
        Files.createDirectories(out);
        List<Path> files = new ArrayList<>();
        List<BufferedImage> images = new ArrayList<>();
        for (var status : finished) {
            for (var image : status.path("images")) {
                byte[] png = http.send(request(base + image.path("url").asText(), apiKey).build(),
                        HttpResponse.BodyHandlers.ofByteArray()).body();
                Path file = out.resolve(images.size() + ".png");
                Files.write(file, png);
                files.add(file);
                images.add(ImageIO.read(new ByteArrayInputStream(png)));
            }
        }
        Path sheet = out.resolve("contact-sheet.png");
        ContactSheet.write(images, 4, sheet);
        files.add(sheet);
        return files;
    }

    private static com.fasterxml.jackson.databind.JsonNode await(HttpClient http, String base, String apiKey,
                                                                 String self, long deadline, Duration timeout)
            throws IOException, InterruptedException {
        var status = Json.mapper().readTree("{}");
        String state = "";
        while (!state.equals("succeeded")) {
            if (state.equals("failed") || state.equals("cancelled")) {
                var error = status.path("error");
                throw new GenerationFailedException("generation " + status.path("id").asText() + " " + state
                        + (error.isObject() ? ": " + error.path("code").asText() + ": " + error.path("message").asText()
                        : ""));
            }
            if (System.nanoTime() > deadline) {
                throw new GenerationFailedException("generation " + self + " not finished after " + timeout
                        + " (state " + state + "); raise --timeout or check the workers");
            }
            Thread.sleep(state.isEmpty() ? 0 : 200);
            HttpResponse<String> polled = http.send(request(base + self, apiKey).build(),
                    HttpResponse.BodyHandlers.ofString());
            if (polled.statusCode() == 503) {
                Thread.sleep(500); // the gateway's view is restarting, or Kafka elects a leader: ask again
                continue;
            }
            if (polled.statusCode() != 200) {
                throw new GenerationFailedException("cannot read " + self + ": " + describeError(polled));
            }
            status = Json.mapper().readTree(polled.body());
            state = status.path("state").asText();
        }
        return status;
    }

    /** {@code 400 invalid_request (n): n must be in 1..8, got 20} from an error answer, or its raw text. */
    static String describeError(HttpResponse<String> r) {
        try {
            var error = Json.mapper().readTree(r.body()).path("error");
            if (error.isObject()) {
                String field = error.path("field").isTextual() ? " (" + error.path("field").asText() + ")" : "";
                return r.statusCode() + " " + error.path("code").asText() + field + ": " + error.path("message").asText();
            }
        } catch (IOException notJson) {
            // fall through to the raw body
        }
        String body = r.body() == null ? "" : r.body().strip();
        return r.statusCode() + (body.isEmpty() ? "" : " " + (body.length() > 200 ? body.substring(0, 200) : body));
    }

    /** A request to the gateway, with {@code Authorization: Bearer <apiKey>} when a key is given. */
    static HttpRequest.Builder request(String url, String apiKey) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url));
        return apiKey == null || apiKey.isBlank() ? b : b.header("Authorization", "Bearer " + apiKey);
    }
}
