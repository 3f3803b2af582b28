package dalle2.cli;

import dalle2.ops.StageWorkerWatch;
import dalle2.pipeline.StageWorker;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * What every worker process takes: where Kafka and storage are ({@link ConnectionOptions}), its models, its
 * batching, and its ops endpoints; options or {@code DALLE2_*} environment variables. Also how a worker process
 * runs: {@link #runUntilSignal}.
 */
public final class WorkerOptions {

    /** The pools and what differs between them. */
    enum Pool {
        PRIOR(9101), DECODER(9102), UPSAMPLER(9103);

        /** Default port of the ops endpoints: one per pool, so both run side by side on one host. */
        final int defaultHttpPort;

        Pool(int defaultHttpPort) {
            this.defaultHttpPort = defaultHttpPort;
        }

        String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** Loads a worker's models and starts it (status view caught up, member of its group). */
    @FunctionalInterface
    interface Starter {
        StageWorker<?, ?, ?, ?> start() throws Exception;
    }

    @Mixin
    ConnectionOptions connection;

    @Option(names = "--models", defaultValue = "${env:DALLE2_MODELS:-trained_models}",
            description = "model folder (env DALLE2_MODELS; default ${DEFAULT-VALUE})")
    Path models;

    @Option(names = "--worker-id", defaultValue = "${env:DALLE2_WORKER_ID}",
            description = "name in logs, client ids and dead letters (env DALLE2_WORKER_ID; "
                    + "default <pool>-<HOSTNAME>, or <pool>-<pid> without HOSTNAME)")
    String workerId;

    @Option(names = "--max-batch", defaultValue = "${env:DALLE2_MAX_BATCH:-0}",
            description = "images per model call (env DALLE2_MAX_BATCH); 0 = the pool's default: "
                    + "prior 8, decoder by device (GPU 16, CPU 4), upsampler by device (GPU 8, CPU 2)")
    int maxBatch;

    @Option(names = "--max-wait-ms", defaultValue = "${env:DALLE2_MAX_WAIT_MS:-20}",
            description = "longest a batch waits for more images (env DALLE2_MAX_WAIT_MS; default ${DEFAULT-VALUE})")
    long maxWaitMs;

    @Mixin
    OpsEndpointOptions ops;

    @Option(names = "--follow-registry", defaultValue = "${env:DALLE2_FOLLOW_REGISTRY:-false}",
            description = "follow the model registry: run the role's pinned version (or, unpinned, the latest "
                    + "published one), loaded beside the running one and switched to between batches without a "
                    + "restart; start from --models until the registry names one (env DALLE2_FOLLOW_REGISTRY)")
    boolean followRegistry;

    @Option(names = "--model-cache", defaultValue = "${env:DALLE2_MODEL_CACHE}",
            description = "folder of the registry versions this worker fetched (env DALLE2_MODEL_CACHE; default "
                    + "dalle2-model-cache in the temporary folder)")
    Path modelCache;

    /** The registry this worker follows, or null when it runs --models for its whole life. */
    RegistryFollowing registryFollowing(Pool pool) throws InterruptedException {
        if (!followRegistry) {
            return null;
        }
        Path cache = modelCache != null ? modelCache : Path.of(System.getProperty("java.io.tmpdir"), "dalle2-model-cache");
        return RegistryFollowing.connect(connection.kafka, connection.storage(), cache, workerId(pool));
    }

    /** The batch size asked for, or {@code poolDefault} when none was. */
    int maxBatchOr(int poolDefault) {
        if (maxBatch < 0) {
            throw new IllegalArgumentException("--max-batch must be >= 0, got " + maxBatch);
        }
        return maxBatch > 0 ? maxBatch : poolDefault;
    }

    String workerId(Pool pool) {
        if (workerId != null && !workerId.isBlank()) {
            return workerId;
        }
        String host = System.getenv("HOSTNAME");
        return pool.label() + "-" + (host != null && !host.isBlank() ? host : ProcessHandle.current().pid());
    }

    int httpPort(Pool pool) {
        return ops.httpPort(pool.defaultHttpPort);
    }

    /** The worker's settings: {@link StageWorker.Config#defaults} with this id, batch size and wait. */
    StageWorker.Config config(Pool pool, int resolvedMaxBatch) {
        if (maxWaitMs < 0) {
            throw new IllegalArgumentException("--max-wait-ms must be >= 0, got " + maxWaitMs);
        }
        return PipelineServices.workerConfig(connection.kafka, workerId(pool), resolvedMaxBatch,
                Duration.ofMillis(maxWaitMs));
    }

    /** Runs one pool worker until Ctrl-C or SIGTERM ({@link OpsEndpointOptions#runUntilSignal}). */
    int runUntilSignal(Pool pool, Starter starter) throws Exception {
        return ops.runUntilSignal(pool.label(), pool.defaultHttpPort, connection.kafka, () -> {
            StageWorker<?, ?, ?, ?> worker = starter.start();
            return new OpsEndpointOptions.Running(new StageWorkerWatch(worker), worker);
        });
    }
}
