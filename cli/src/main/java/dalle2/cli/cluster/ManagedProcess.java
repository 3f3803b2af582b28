package dalle2.cli.cluster;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.time.Instant;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * One child process that can be killed and started again from the same spec. Every started process is also
 * killed by a JVM shutdown hook, so a harness that fails or is interrupted leaves nothing running.
 */
public final class ManagedProcess {

    private static final Set<Process> RUNNING = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> RUNNING.forEach(Process::destroyForcibly),
                "cluster-process-reaper"));
    }

    /** SIGKILLs every process any harness in this JVM started and that still runs. */
    public static void killAll() {
        RUNNING.forEach(Process::destroyForcibly);
    }

    /** How many started processes still run. */
    public static int running() {
        return (int) RUNNING.stream().filter(Process::isAlive).count();
    }

    private volatile ProcessSpec spec;
    private volatile Process process;

    public ManagedProcess(ProcessSpec spec) {
        this.spec = spec;
    }

    public String name() {
        return spec.name();
    }

    public ProcessSpec spec() {
        return spec;
    }

    public synchronized void start() {
        if (isAlive()) {
            throw new IllegalStateException(name() + " already runs");
        }
        try {
            Files.createDirectories(spec.logFile().getParent());
            Files.writeString(spec.logFile(), "=== " + Instant.now() + " start " + String.join(" ", spec.command())
                    + "\n", java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
            ProcessBuilder builder = new ProcessBuilder(spec.command()).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(spec.logFile().toFile()));
            builder.environment().putAll(spec.environment());
            Process started = builder.start();
            RUNNING.add(started);
            started.onExit().thenRun(() -> RUNNING.remove(started));
            process = started;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + name(), e);
        }
    }

    /** Starts it again with another spec (e.g. without a fault hook). */
    public synchronized void restartWith(ProcessSpec newSpec) {
        kill();
        this.spec = newSpec;
        start();
    }

    public boolean isAlive() {
        Process p = process;
        return p != null && p.isAlive();
    }

    public long pid() {
        Process p = process;
        return p == null ? -1 : p.pid();
    }

    /** Exit status of the last run, or null while it runs or before it ran. */
    public Integer exitValue() {
        Process p = process;
        return p == null || p.isAlive() ? null : p.exitValue();
    }

    /** SIGKILL (on Linux {@link Process#destroyForcibly}): no shutdown hooks, no commits, no flushes. */
    public void kill() {
        Process p = process;
        if (p != null && p.isAlive()) {
            p.destroyForcibly();
            await(p, 30);
        }
    }

    /** SIGTERM, then SIGKILL if it has not stopped within {@code graceSeconds}. */
    public void stop(int graceSeconds) {
        Process p = process;
        if (p != null && p.isAlive()) {
            p.destroy();
            if (!await(p, graceSeconds)) {
                kill();
            }
        }
    }

    private static boolean await(Process p, int seconds) {
        try {
            return p.waitFor(seconds, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
            return false;
        }
    }

    /** Blocks until the process exits or {@code seconds} pass; true when it exited. */
    public boolean awaitExit(int seconds) {
        Process p = process;
        return p == null || await(p, seconds);
    }
}
