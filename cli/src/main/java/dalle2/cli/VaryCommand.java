package dalle2.cli;

import dalle2.json.Json;
import dalle2.messages.GenerationRequest;
import dalle2.messages.SamplerKind;
import java.io.IOException;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code dalle2 vary IMAGE}: variations of a PNG or JPEG, the paper's image variations (the image's CLIP image
 * embedding decoded with new noise), submitted to {@code POST /v1/variations}; then as {@code generate}: waits,
 * writes the PNGs and a contact sheet. Without {@code --gateway} it starts the embedded stack for the duration.
 */
@Command(name = "vary", mixinStandardHelpOptions = true,
        description = "Variations of an image (starts the embedded stack unless --gateway is given).")
public final class VaryCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "IMAGE", description = "a PNG or JPEG file")
    Path image;

    @picocli.CommandLine.Mixin
    SubmissionTarget target = new SubmissionTarget();

    @Option(names = "--n", defaultValue = "4", description = "variations (1-" + GenerationRequest.MAX_IMAGES
            + ", default ${DEFAULT-VALUE})")
    int n;

    @Option(names = "--seed", description = "seed (random when absent)")
    Long seed;

    @Option(names = "--decoder-steps", description = "decoder sampler steps")
    Integer decoderSteps;

    @Option(names = "--decoder-guidance", description = "decoder guidance scale")
    Double decoderGuidance;

    @Option(names = "--sampler", converter = SamplerOption.class,
            description = "the decoder's sampler, " + SamplerOption.DESCRIPTION
                    + " (default: the gateway's, dpmpp-2m, or ddim with --eta above 0)")
    SamplerKind sampler;

    @Option(names = "--size", description = "image side in pixels: 32, 64, 128 or 256 (default: the gateway's)")
    Integer size;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (n < 1 || n > GenerationRequest.MAX_IMAGES) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                    "--n must be in 1.." + GenerationRequest.MAX_IMAGES + ", got " + n);
        }
        if (!Files.isRegularFile(image)) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "IMAGE " + image + " is not a file");
        }
        try {
            return target.run(this::run);
        } catch (GenerateCommand.GenerationFailedException e) {
            spec.commandLine().getErr().println("vary: " + e.getMessage());
            return 1;
        }
    }

    private int run(String base) throws Exception {
        List<Path> files = vary(HttpClient.newHttpClient(), base, target.apiKey, Files.readAllBytes(image), query(),
                target.out, target.timeout);
        files.forEach(f -> System.out.println(f.toAbsolutePath()));
        return 0;
    }

    /** The query string of the variation's parameters. */
    String query() {
        Map<String, Object> q = new LinkedHashMap<>();
        q.put("n", n);
        if (seed != null) {
            q.put("seed", seed);
        }
        if (decoderSteps != null) {
            q.put("decoder_steps", decoderSteps);
        }
        if (decoderGuidance != null) {
            q.put("decoder_guidance", decoderGuidance);
        }
        if (sampler != null) {
            q.put("sampler", sampler.configName());
        }
        if (size != null) {
            q.put("size", size);
        }
        List<String> parts = new ArrayList<>();
        q.forEach((k, v) -> parts.add(k + "=" + URLEncoder.encode(String.valueOf(v), StandardCharsets.UTF_8)));
        return String.join("&", parts);
    }

    /** Submits the image's variations, waits, writes {@code <k>.png} and {@code contact-sheet.png}. */
    static List<Path> vary(HttpClient http, String base, String apiKey, byte[] imageBytes, String query, Path out,
                           Duration timeout) throws IOException, InterruptedException {
        String self = submit(http, base, apiKey, imageBytes, query);
        return GenerateCommand.collect(http, base, apiKey, List.of(self), out, timeout);
    }

    /** Submits the image's variations; the job's {@code self} link. */
    static String submit(HttpClient http, String base, String apiKey, byte[] imageBytes, String query)
            throws IOException, InterruptedException {
        boolean jpeg = imageBytes.length >= 2 && (imageBytes[0] & 0xff) == 0xFF && (imageBytes[1] & 0xff) == 0xD8;
        HttpResponse<String> submitted = http.send(GenerateCommand.request(base + "/v1/variations"
                        + (query.isEmpty() ? "" : "?" + query), apiKey)
                .header("Content-Type", jpeg ? "image/jpeg" : "image/png")
                .POST(HttpRequest.BodyPublishers.ofByteArray(imageBytes)).build(), HttpResponse.BodyHandlers.ofString());
        if (submitted.statusCode() != 202 && submitted.statusCode() != 200) {
            throw new GenerateCommand.GenerationFailedException("the gateway refused the image: "
                    + GenerateCommand.describeError(submitted));
        }
        return Json.mapper().readTree(submitted.body()).path("links").path("self").asText();
    }
}
