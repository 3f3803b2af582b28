package dalle2.cli;

import java.nio.file.Path;
import java.time.Duration;
import picocli.CommandLine.Option;

/**
 * Where a submitting command ({@code generate}, {@code vary}) sends its jobs and leaves their images: a running
 * gateway, or the embedded stack started for the length of the command.
 */
final class SubmissionTarget {

    /** What a command does once it has a gateway to talk to; returns its exit code. */
    @FunctionalInterface
    interface Submission {
        int run(String gatewayUrl) throws Exception;
    }

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

    @Option(names = "--timeout", defaultValue = "PT30M", description = "give up after (ISO-8601, default ${DEFAULT-VALUE})")
    Duration timeout;

    /** Runs the submission against {@code --gateway}, or against an embedded stack started and stopped around it. */
    int run(Submission submission) throws Exception {
        if (gateway != null) {
            return submission.run(gateway);
        }
        try (EmbeddedStack stack = EmbeddedStack.start(dataDir, 0, 1, 1, ModelFactory.load(models))) {
            return submission.run(stack.gatewayUrl());
        }
    }
}
