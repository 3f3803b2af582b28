package dalle2.cli.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import dalle2.json.Json;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * A client of the gateways as a careful user writes one: every submission carries an {@code Idempotency-Key};
 * when a gateway cannot be reached or answers 503 it tries the next one with the same key until it gets an
 * answer or its patience ends.
 */
public final class GatewayClient {

    private final List<String> gateways;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final Duration patience;

    private final String apiKey;

    public GatewayClient(List<String> gateways, String apiKey, Duration patience) {
        this.gateways = List.copyOf(gateways);
        this.apiKey = apiKey;
        this.patience = patience;
    }

    private HttpRequest.Builder request(String url) {
        return HttpRequest.newBuilder(URI.create(url)).header("Authorization", "Bearer " + apiKey);
    }

    /** Submits, first to gateway {@code first}, and records the answer on the job. */
    public void submit(TrackedJob job, int first) {
        long deadline = System.currentTimeMillis() + patience.toMillis();
        job.submittedAt = Instant.now();
        String body = Json.write(job.spec.body());
        for (int attempt = 0; System.currentTimeMillis() < deadline; attempt++) {
            String gateway = gateways.get(Math.floorMod(first + attempt, gateways.size()));
            job.submitAttempts = attempt + 1;
            try {
                HttpResponse<String> response = http.send(request(gateway + "/v1/generations")
                        .timeout(Duration.ofSeconds(30))
                        .header("Content-Type", "application/json")
                        .header("Idempotency-Key", job.spec.idempotencyKey())
                        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
                job.submitStatus = response.statusCode();
                job.attempts.add(gateway + " -> " + response.statusCode()
                        + (response.headers().firstValue("Idempotent-Replayed").isPresent() ? " (replayed)" : ""));
                if (job.accepted()) {
                    job.jobIds.add(Json.mapper().readTree(response.body()).path("id").asText());
                    return;
                }
                job.submitError = response.body();
                if (response.statusCode() < 500) {
                    return;
                }
            } catch (IOException e) {
                job.submitError = gateway + ": " + e;
                job.attempts.add(gateway + " -> " + e.getClass().getSimpleName());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            KafkaBrokers.sleep(Math.min(2000, 200L * (attempt + 1)));
        }
    }

    /** Reads the job's state from the first gateway that answers; false when none did. */
    public boolean poll(TrackedJob job) {
        String id = job.jobId();
        for (String gateway : gateways) {
            try {
                HttpResponse<String> response = http.send(request(gateway
                        + "/v1/generations/" + id).timeout(Duration.ofSeconds(10)).GET().build(),
                        HttpResponse.BodyHandlers.ofString());
                job.lastPollStatus = response.statusCode();
                if (response.statusCode() != 200) {
                    return true;
                }
                JsonNode node = Json.mapper().readTree(response.body());
                job.state = node.path("state").asText(null);
                JsonNode error = node.path("error");
                if (error.isObject()) {
                    job.errorCode = error.path("code").asText(null);
                    job.errorMessage = error.path("message").asText(null);
                }
                job.statusSubmittedAt = instant(node.path("timestamps").path("submitted_at"));
                job.finishedAt = instant(node.path("timestamps").path("finished_at"));
                return true;
            } catch (IOException e) {
                // that gateway is down: ask the next
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return false;
    }

    private static Instant instant(JsonNode node) {
        return node.isTextual() ? Instant.parse(node.asText()) : null;
    }
}
