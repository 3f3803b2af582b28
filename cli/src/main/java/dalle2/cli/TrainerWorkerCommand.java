package dalle2.cli;

import dalle2.djl.DjlRuntime;
import dalle2.storage.ObjectStore;
import dalle2.trainer.worker.TrainerWorker;
import dalle2.trainer.worker.TrainerWorkerWatch;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code dalle2 trainer-worker}: one member of the {@code trainer} group, running the training jobs of
 * {@code training.jobs} one at a time, with checkpoints and published models in object storage.
 */
@Command(name = "trainer-worker", mixinStandardHelpOptions = true,
        description = "Run a trainer worker: training jobs from Kafka, checkpoints and models in object storage.")
public final class TrainerWorkerCommand implements Callable<Integer> {

    /** Default port of the ops endpoints, beside the pools' 9101-9103 on one host. */
    static final int DEFAULT_HTTP_PORT = 9104;

    @Mixin
    ConnectionOptions connection;

    @Mixin
    OpsEndpointOptions ops;

    @Option(names = "--data-dir", defaultValue = "${env:DALLE2_DATA_DIR:-data}",
            description = "where the datasets jobs name are, as for dalle2 train --data-dir (env DALLE2_DATA_DIR; "
                    + "default ${DEFAULT-VALUE}); a job's dataset locations resolve inside it")
    Path dataDir;

    @Option(names = "--work-dir", defaultValue = "${env:DALLE2_TRAINER_WORK_DIR:-runs/trainer-worker}",
            description = "local run folder of the job in progress (env DALLE2_TRAINER_WORK_DIR; default ${DEFAULT-VALUE})")
    Path workDir;

    @Option(names = "--clip", defaultValue = "${env:DALLE2_CLIP:-trained_models/clip}",
            description = "the CLIP model folder whose embeddings prior and decoder jobs train on (env DALLE2_CLIP; "
                    + "default ${DEFAULT-VALUE})")
    Path clip;

    @Option(names = "--worker-id", defaultValue = "${env:DALLE2_WORKER_ID}",
            description = "name in logs, client ids and statuses (default trainer-<HOSTNAME>, or trainer-<pid>)")
    String workerId;

    @Override
    public Integer call() throws Exception {
        DjlRuntime.configure();
        String id = workerId != null && !workerId.isBlank() ? workerId : "trainer-" + hostOrPid();
        return ops.runUntilSignal("trainer", DEFAULT_HTTP_PORT, connection.kafka, () -> {
            ObjectStore store = new ObjectStore(connection.storage());
            try {
                store.ensureBucket();
                TrainerWorker worker = new TrainerWorker(new TrainerWorker.Config(connection.kafka, id, dataDir,
                        workDir, clip, Duration.ofSeconds(60)), store).start();
                return new OpsEndpointOptions.Running(new TrainerWorkerWatch(worker), () -> {
                    worker.close();
                    store.close();
                });
            } catch (Exception | Error e) {
                store.close();
                throw e;
            }
        });
    }

    private static String hostOrPid() {
        String host = System.getenv("HOSTNAME");
        return host != null && !host.isBlank() ? host : Long.toString(ProcessHandle.current().pid());
    }
}
