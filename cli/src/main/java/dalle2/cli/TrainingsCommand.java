package dalle2.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dalle2.json.Json;
import dalle2.messages.HyperParameters;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code dalle2 trainings submit|get|list|cancel}: training jobs through a running gateway (its trainer workers run
 * them), their statuses, optionally followed until they finish, and their cancellation.
 */
@Command(name = "trainings", mixinStandardHelpOptions = true,
        description = "Submit a training job to a gateway's trainer workers, read a training's status, or cancel it.",
        subcommands = {TrainingsCommand.Submit.class, TrainingsCommand.Get.class, TrainingsCommand.ListTrainings.class,
                TrainingsCommand.Cancel.class})
public final class TrainingsCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /** The gateway and key, and how to follow a training. */
    static final class Target {
        @Option(names = "--gateway", required = true, description = "URL of a running gateway, e.g. http://127.0.0.1:8080")
        String gateway;

        @Option(names = "--api-key", defaultValue = "${env:DALLE2_API_KEY}",
                description = "API key (env DALLE2_API_KEY; prefer the variable: options show in ps)")
        String apiKey;

        @Option(names = "--wait", description = "follow the training until it succeeds or fails, printing its progress")
        boolean await;

        @Option(names = "--timeout", defaultValue = "P7D", description = "with --wait, give up after (ISO-8601, "
                + "default ${DEFAULT-VALUE})")
        Duration timeout;
    }

    @Command(name = "submit", mixinStandardHelpOptions = true, description = "POST /v1/trainings.")
    static final class Submit implements Callable<Integer> {
        @Mixin Target target = new Target();
        @Option(names = "--model", required = true, description = "clip, prior, decoder or upsampler") String model;
        @Option(names = "--dataset", required = true, description = "as dalle2 train --data takes it, inside the "
                + "workers' --data-dir (e.g. fashion-mnist, jsonl:my-pics)") String dataset;
        @Option(names = "--steps", required = true, description = "optimizer steps") long steps;
        @Option(names = "--set", paramLabel = "NAME=VALUE", description = "a hyper-parameter, named as the trainer's "
                + "option in snake_case (batch_size=16, lr=3e-4, channel_mult=1,2,2); repeatable") List<String> set;
        @Option(names = "--base-version", description = "a published version of the model to start from")
        String baseVersion;

        @Override
        public Integer call() throws Exception {
            Map<String, Object> hyperParameters;
            try {
                hyperParameters = hyperParameters(model, set == null ? List.of() : set);
            } catch (IllegalArgumentException e) {
                System.err.println("dalle2 trainings submit: " + e.getMessage());
                return 2;
            }
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("model", model);
            body.put("dataset", dataset);
            body.put("steps", steps);
            body.put("hyper_parameters", hyperParameters);
            if (baseVersion != null) {
                body.put("base_version", baseVersion);
            }
            HttpClient http = HttpClient.newHttpClient();
            HttpResponse<String> r = http.send(GenerateCommand.request(target.gateway + "/v1/trainings", target.apiKey)
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(Json.write(body))).build(),
                    HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 202) {
                System.err.println("the gateway refused the training: " + GenerateCommand.describeError(r));
                return r.statusCode() == 400 ? 2 : 1;
            }
            String id = Json.mapper().readTree(r.body()).path("id").asText();
            System.out.println("training " + id + " queued");
            return target.await ? follow(http, target, id) : 0;
        }
    }

    @Command(name = "get", mixinStandardHelpOptions = true, description = "GET /v1/trainings/{id}.")
    static final class Get implements Callable<Integer> {
        @Mixin Target target = new Target();
        @Parameters(paramLabel = "ID") String id;

        @Override
        public Integer call() throws Exception {
            HttpClient http = HttpClient.newHttpClient();
            if (target.await) {
                return follow(http, target, id);
            }
            HttpResponse<String> r = http.send(GenerateCommand.request(target.gateway + "/v1/trainings/" + id,
                    target.apiKey).build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
                System.err.println("cannot read training " + id + ": " + GenerateCommand.describeError(r));
                return 1;
            }
            System.out.println(r.body());
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "GET /v1/trainings: your trainings, "
            + "newest first, one line each (id, state, model, step/steps, published version or error).")
    static final class ListTrainings implements Callable<Integer> {
        @Mixin Target target = new Target();
        @Option(names = "--limit", defaultValue = "20", description = "at most this many (1-100, default ${DEFAULT-VALUE})")
        int limit;

        @Override
        public Integer call() throws Exception {
            HttpResponse<String> r = HttpClient.newHttpClient().send(GenerateCommand.request(target.gateway
                    + "/v1/trainings?limit=" + limit, target.apiKey).build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
                System.err.println("cannot list trainings: " + GenerateCommand.describeError(r));
                return r.statusCode() == 400 ? 2 : 1;
            }
            for (JsonNode t : Json.mapper().readTree(r.body()).path("data")) {
                String outcome = t.path("published_version").isTextual() ? " " + t.path("published_version").asText()
                        : t.path("error").isObject() ? " " + t.path("error").path("code").asText() : "";
                System.out.println(t.path("id").asText() + " " + t.path("state").asText() + " "
                        + t.path("model").asText() + " " + t.path("step").asLong() + "/" + t.path("steps").asLong()
                        + outcome);
            }
            return 0;
        }
    }

    @Command(name = "cancel", mixinStandardHelpOptions = true, description = "DELETE /v1/trainings/{id}: a queued "
            + "training never starts, a running one stops after its current step and publishes nothing.")
    static final class Cancel implements Callable<Integer> {
        @Mixin Target target = new Target();
        @Parameters(paramLabel = "ID") String id;

        @Override
        public Integer call() throws Exception {
            HttpClient http = HttpClient.newHttpClient();
            HttpResponse<String> r = http.send(GenerateCommand.request(target.gateway + "/v1/trainings/" + id,
                    target.apiKey).DELETE().build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200 && r.statusCode() != 202) {
                System.err.println("cannot cancel training " + id + ": " + GenerateCommand.describeError(r));
                return 1;
            }
            System.out.println(r.body());
            return 0;
        }
    }

    /**
     * {@code name=value} pairs typed as the model's hyper-parameters take them (an integer, a number, true/false,
     * a comma-separated list), so the JSON says {@code 16}, not {@code "16"}. An unknown name is refused, naming it.
     */
    static Map<String, Object> hyperParameters(String model, List<String> pairs) {
        Map<String, HyperParameters.Kind> kinds = HyperParameters.of(model);
        Map<String, Object> values = new LinkedHashMap<>();
        for (String pair : pairs) {
            int eq = pair.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("--set expects NAME=VALUE, got '" + pair + "'");
            }
            String name = pair.substring(0, eq).trim().replace('-', '_');
            String text = pair.substring(eq + 1).trim();
            HyperParameters.Kind kind = kinds.get(name);
            if (kind == null) {
                throw new IllegalArgumentException("--set " + name + ": " + model + " takes no such hyper-parameter; "
                        + "it takes " + String.join(", ", new java.util.TreeSet<>(kinds.keySet())));
            }
            try {
                values.put(name, switch (kind) {
                    case INTEGER -> Long.parseLong(text);
                    case NUMBER -> Double.parseDouble(text);
                    case BOOLEAN -> parseBoolean(text);
                    case STRING -> text;
                    case INTEGER_LIST -> splitList(text).stream().map(Integer::parseInt).toList();
                    case STRING_LIST -> splitList(text);
                });
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--set " + name + ": '" + text + "' is not " + kind.name()
                        .toLowerCase(java.util.Locale.ROOT).replace('_', ' '));
            }
        }
        return values;
    }

    private static boolean parseBoolean(String text) {
        if (!text.equals("true") && !text.equals("false")) {
            throw new NumberFormatException(text);
        }
        return Boolean.parseBoolean(text);
    }

    private static List<String> splitList(String text) {
        List<String> items = new ArrayList<>();
        for (String item : text.split(",")) {
            if (!item.isBlank()) {
                items.add(item.trim());
            }
        }
        return items;
    }

    /** Polls until the training finishes, printing a line whenever its state or step changes. */
    static int follow(HttpClient http, Target target, String id) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + target.timeout.toNanos();
        String lastLine = "";
        while (System.nanoTime() < deadline) {
            HttpResponse<String> r = http.send(GenerateCommand.request(target.gateway + "/v1/trainings/" + id,
                    target.apiKey).build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() == 503) {
                Thread.sleep(1000); // the gateway's view is restarting, or Kafka elects a leader: ask again
                continue;
            }
            if (r.statusCode() != 200) {
                System.err.println("cannot read training " + id + ": " + GenerateCommand.describeError(r));
                return 1;
            }
            JsonNode s = Json.mapper().readTree(r.body());
            String state = s.path("state").asText();
            JsonNode losses = s.path("losses");
            String loss = losses.isArray() && !losses.isEmpty()
                    ? String.format(" loss %.5f", losses.get(losses.size() - 1).path("loss").asDouble()) : "";
            String line = id + " " + state + " step " + s.path("step").asLong() + "/" + s.path("steps").asLong() + loss
                    + (s.path("worker").isTextual() ? " on " + s.path("worker").asText() : "");
            if (!line.equals(lastLine)) {
                System.out.println(line);
                lastLine = line;
            }
            if (state.equals("succeeded")) {
                System.out.println("published " + s.path("published_version").asText());
                return 0;
            }
            if (state.equals("failed")) {
                System.err.println("training " + id + " failed: " + s.path("error").path("code").asText() + ": "
                        + s.path("error").path("message").asText());
                return 1;
            }
            if (state.equals("cancelled")) {
                System.err.println("training " + id + " was cancelled at step " + s.path("step").asLong());
                return 1;
            }
            Thread.sleep(1000);
        }
        System.err.println("training " + id + " not finished after " + target.timeout + "; it goes on: "
                + "dalle2 trainings get " + id + " --wait");
        return 1;
    }
}
