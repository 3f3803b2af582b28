package dalle2.cli;

import dalle2.ops.WatchedWorker;
import dalle2.ops.WorkerOpsServer;
import java.io.IOException;
import picocli.CommandLine.Option;

/**
 * Where a worker process serves {@code /healthz}, {@code /readyz} and {@code /metrics}, and how such a process
 * runs: {@link #runUntilSignal}.
 */
public final class OpsEndpointOptions {

    @Option(names = "--http-host", defaultValue = "${env:DALLE2_HTTP_HOST:-0.0.0.0}",
            description = "address of /healthz, /readyz and /metrics (env DALLE2_HTTP_HOST; default ${DEFAULT-VALUE})")
    String httpHost;

    @Option(names = "--http-port", defaultValue = "${env:DALLE2_HTTP_PORT}",
            description = "port of /healthz, /readyz and /metrics (env DALLE2_HTTP_PORT; default prior 9101, "
                    + "decoder 9102, upsampler 9103, trainer 9104); 0 = any free port (printed), -1 = no endpoints")
    Integer httpPort;

    /** The port asked for, or {@code roleDefault}: one per role, so that all of them run side by side on a host. */
    int httpPort(int roleDefault) {
        return httpPort != null ? httpPort : roleDefault;
    }

    /** Starts the endpoints (and prints where), or returns null for port -1. */
    WorkerOpsServer start(String role, int roleDefault, String kafka) throws IOException {
        int port = httpPort(roleDefault);
        if (port < 0) {
            return null;
        }
        WorkerOpsServer ops = WorkerOpsServer.start(httpHost, port, kafka);
        System.out.println(role + " worker ops " + ops.url() + " (/healthz /readyz /metrics)");
        return ops;
    }

    /** A started worker: what the endpoints watch, and how it stops (it drains and leaves its group). */
    record Running(WatchedWorker watched, AutoCloseable stop) {
    }

    /** Starts a worker: models loaded, status view caught up, member of its group. */
    @FunctionalInterface
    interface Starter {
        Running start() throws Exception;
    }

    /**
     * Runs one worker until Ctrl-C or SIGTERM: the ops endpoints first (alive, not ready, while the models load
     * and the status view catches up), then the worker; on the signal the worker stops before the endpoints close.
     */
    int runUntilSignal(String role, int roleDefault, String kafka, Starter starter) throws Exception {
        WorkerOpsServer server = start(role, roleDefault, kafka);
        Running worker;
        try {
            worker = starter.start();
        } catch (Exception | Error e) {
            if (server != null) {
                server.close();
            }
            throw e;
        }
        WatchedWorker watched = worker.watched();
        if (server != null) {
            server.watch(watched);
        }
        System.out.println(role + " worker " + watched.workerId() + " joined group " + watched.group() + " at "
                + kafka);
        Shutdown.awaitSignalThenClose(() -> {
            worker.stop().close();
            if (server != null) {
                server.close();
            }
        });
        return 0;
    }
}
