package dalle2.deploy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/** Renders a kustomization with {@code kubectl kustomize} (kustomize built into kubectl; no cluster involved). */
final class Kustomize {

    private Kustomize() {
    }

    /** Whether a kubectl with kustomize runs here. */
    static boolean available() {
        try {
            return run(List.of("kubectl", "version", "--client")).exitCode == 0;
        } catch (IOException e) {
            return false;
        }
    }

    /** The documents {@code kubectl kustomize dir} prints. */
    static List<Map<String, Object>> render(Path dir) throws IOException {
        Result result = run(List.of("kubectl", "kustomize", dir.toString()));
        if (result.exitCode != 0) {
            throw new IOException("kubectl kustomize " + dir + " failed (" + result.exitCode + "): " + result.output);
        }
        return documents(result.output);
    }

    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> documents(String yaml) {
        List<Map<String, Object>> documents = new ArrayList<>();
        for (Object doc : new Yaml(new SafeConstructor(new LoaderOptions())).loadAll(yaml)) {
            if (doc != null) {
                documents.add((Map<String, Object>) doc);
            }
        }
        return documents;
    }

    private record Result(int exitCode, String output) {
    }

    private static Result run(List<String> command) throws IOException {
        Path output = Files.createTempFile("kubectl", ".out");
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile()).start();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException(String.join(" ", command) + " did not finish in 60 s");
            }
            return new Result(p.exitValue(), Files.readString(output, StandardCharsets.UTF_8));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        } finally {
            Files.deleteIfExists(output);
        }
    }
}
