package dalle2.cli.bench;

import com.fasterxml.jackson.databind.JsonNode;
import dalle2.json.Json;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The PyTorch eager twin of the networks ({@code bench/torch_reference.py}) as a child process that answers one
 * measurement command per line, so the bench can interleave Java and PyTorch figures row by row: whatever else
 * the machine does then weighs on both sides of a ratio alike.
 */
public final class TorchReference implements AutoCloseable {

    /** The script, relative to the project folder. */
    public static final Path SCRIPT = Path.of("bench", "torch_reference.py");

    private final Process process;
    private final BufferedWriter commands;
    private final BufferedReader answers;
    private final String version;

    private TorchReference(Process process) throws IOException {
        this.process = process;
        this.commands = new BufferedWriter(new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8));
        this.answers = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        JsonNode hello = readAnswer();
        this.version = "PyTorch " + hello.path("torch").asText() + ", " + hello.path("threads").asInt() + " threads";
    }

    /**
     * Starts the twin on {@code models} with {@code threads} intra-op threads.
     *
     * @throws IOException when the interpreter or torch is missing (the message says which)
     */
    public static TorchReference start(String python, Path projectHome, Path models, int threads) throws IOException {
        Path script = projectHome.resolve(SCRIPT);
        if (!Files.isRegularFile(script)) {
            throw new IOException("no PyTorch reference script at " + script);
        }
        ProcessBuilder builder = new ProcessBuilder(python, script.toString(), "--models", models.toString(),
                "--threads", Integer.toString(threads));
        builder.redirectError(ProcessBuilder.Redirect.INHERIT);
        // an OpenBLAS behind Debian's torch has its own thread count besides torch.set_num_threads
        builder.environment().put("OPENBLAS_NUM_THREADS", Integer.toString(threads));
        // the environment is inherited: the same allocator (the launcher's LD_PRELOAD) and OpenMP wait policy
        // as the Java side, so a ratio compares the networks and not the process set-up
        Process process = builder.start();
        try {
            return new TorchReference(process);
        } catch (IOException e) {
            process.destroyForcibly();
            throw new IOException("the PyTorch reference did not start (" + python + " " + script
                    + "; Debian's python3-torch provides torch): " + e.getMessage(), e);
        }
    }

    /** "PyTorch 1.13.0, 2 threads". */
    public String version() {
        return version;
    }

    /** Sends one command and returns its answer. */
    public JsonNode call(Map<String, Object> command) throws IOException {
        commands.write(Json.write(command));
        commands.newLine();
        commands.flush();
        JsonNode answer = readAnswer();
        if (answer.has("error")) {
            throw new IOException("PyTorch reference: " + answer.get("error").asText());
        }
        return answer;
    }

    private JsonNode readAnswer() throws IOException {
        String line = answers.readLine();
        if (line == null) {
            throw new IOException("the PyTorch reference exited (code "
                    + (process.isAlive() ? "?" : process.exitValue()) + ")");
        }
        return Json.mapper().readTree(line);
    }

    @Override
    public void close() {
        try {
            commands.close();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (IOException | InterruptedException e) {
            process.destroyForcibly();
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
