package dalle2.trainer.worker;

import dalle2.djl.DjlRuntime;
import dalle2.storage.ObjectStore;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A trainer worker alone in its JVM, for the test that kills one mid-run: what {@code dalle2 trainer-worker} starts,
 * configured by arguments. Runs until the process is killed.
 *
 * <p>Arguments: bootstrap, S3 endpoint, access key, secret key, bucket, data dir, work dir, worker id.
 */
public final class TrainerWorkerProcess {

    private TrainerWorkerProcess() {
    }

    public static void main(String[] args) throws Exception {
        DjlRuntime.configure();
        ObjectStore store = new ObjectStore(new ObjectStore.Config(args[1], args[2], args[3], args[4]));
        TrainerWorker worker = new TrainerWorker(new TrainerWorker.Config(args[0], args[7], Path.of(args[5]),
                Path.of(args[6]), null, Duration.ofSeconds(30)), store).start();
        System.out.println("trainer worker " + args[7] + " started");
        Thread.currentThread().join();
        worker.close();
    }
}
