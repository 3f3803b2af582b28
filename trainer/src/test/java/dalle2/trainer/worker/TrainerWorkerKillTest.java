package dalle2.trainer.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle2.djl.DjlRuntime;
import dalle2.embedded.EmbeddedServersExtension;
import dalle2.kafka.KafkaClients;
import dalle2.kafka.Topics;
import dalle2.messages.TrainingRequest;
import dalle2.messages.TrainingState;
import dalle2.messages.TrainingStatus;
import dalle2.pipeline.TrainingStatusView;
import dalle2.storage.ObjectStore;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A trainer worker in a JVM of its own is killed (SIGKILL: no shutdown hook, no commit, no last checkpoint) in the
 * middle of a run; another worker gets the uncommitted job, resumes it from the last checkpoint in object storage
 * and publishes the same model as a run no worker died in (the same content-addressed version, so the same
 * weights to the byte).
 */
class TrainerWorkerKillTest {

    private static final long STEPS = 12;
    private static final int CHECKPOINT_EVERY = 3;
    /** The trainer group's session here: how long the group waits before it gives a dead member's job away. */
    private static final int SESSION_TIMEOUT_MS = 5_000;

    @RegisterExtension
    static final EmbeddedServersExtension servers = EmbeddedServersExtension.kafkaAndS3();

    @TempDir
    Path dir;

    private Process child;

    @AfterEach
    void killChild() throws InterruptedException {
        if (child != null) {
            // gone before the temporary folder it writes in is deleted, so that a failure is reported as itself
            child.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void aJobWhoseWorkerIsKilledMidRunFinishesFromItsCheckpointWithTheUninterruptedResult() throws Exception {
        TrainingFixtures.writeSquares(dir.resolve("data"));
        TrainingFixtures.createTopics(servers.bootstrap());
        shortenTrainerSessions();
        ObjectStore store = servers.closeAfterAll(new ObjectStore(servers.storage("trainer-kill-test")));
        store.ensureBucket();
        KafkaProducer<String, byte[]> producer = servers.closeAfterAll(
                KafkaClients.producer(servers.bootstrap(), "test-producer"));
        TrainingStatusView view = servers.closeAfterAll(new TrainingStatusView(servers.bootstrap(), 100, "test").start());

        // the reference: the same job on a worker nobody kills
        TrainingRequest straight = TrainingFixtures.clipJob("clip-straight", STEPS, CHECKPOINT_EVERY);
        TrainingStatus reference;
        try (TrainerWorker worker = worker("trainer-straight", store)) {
            TrainingFixtures.submit(producer, straight);
            reference = TrainingFixtures.await(view, straight.trainingId(), s -> s.state().terminal(),
                    Duration.ofMinutes(2));
        }
        assertEquals(TrainingState.SUCCEEDED, reference.state(), String.valueOf(reference.error()));

        child = startChildWorker("trainer-doomed", store);
        TrainingRequest killed = TrainingFixtures.clipJob("clip-killed", STEPS, CHECKPOINT_EVERY);
        TrainingFixtures.submit(producer, killed);
        TrainingStatus beforeKill = TrainingFixtures.await(view, killed.trainingId(),
                s -> "trainer-doomed".equals(s.worker()) && s.checkpointStep() != null
                        && s.checkpointStep() >= 2 * CHECKPOINT_EVERY && s.step() > s.checkpointStep(),
                Duration.ofMinutes(2));
        child.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        long killedAt = System.nanoTime();
        TrainingStatus lastWord = view.get(killed.trainingId()).orElseThrow();
        assertTrue(lastWord.step() < STEPS && lastWord.step() > lastWord.checkpointStep(),
                "killed mid-run past its checkpoint, at step " + lastWord.step());

        TrainingStatus done;
        try (TrainerWorker survivor = worker("trainer-survivor", store)) {
            done = TrainingFixtures.await(view, killed.trainingId(), s -> s.state().terminal(), Duration.ofMinutes(2));
        }
        double recoverySeconds = (System.nanoTime() - killedAt) / 1e9;
        assertEquals(TrainingState.SUCCEEDED, done.state(), String.valueOf(done.error()));
        assertEquals("trainer-survivor", done.worker());
        assertEquals(2, done.attempts(), "one attempt killed, one resumed");
        assertEquals(STEPS, done.step());
        // resumed from the checkpoint, not from scratch: the losses before it are the killed worker's
        assertEquals(beforeKill.losses().subList(0, (int) (long) beforeKill.checkpointStep()),
                done.losses().subList(0, (int) (long) beforeKill.checkpointStep()));
        assertEquals(reference.publishedVersion(), done.publishedVersion(),
                "the resumed run published other weights than the uninterrupted one");
        assertEquals(reference.losses().stream().map(TrainingStatus.LossPoint::loss).toList(),
                done.losses().stream().map(TrainingStatus.LossPoint::loss).toList());
        System.out.printf("killed at step %d (checkpoint %d in storage), resumed by another worker, succeeded %.1f s "
                        + "after the kill with %s, the uninterrupted run's version%n", lastWord.step(),
                lastWord.checkpointStep(), recoverySeconds, done.publishedVersion());
    }

    private TrainerWorker worker(String id, ObjectStore store) throws InterruptedException {
        return new TrainerWorker(new TrainerWorker.Config(servers.bootstrap(), id, dir.resolve("data"),
                dir.resolve("work-" + id), null, Duration.ofSeconds(30)), store)
                .start();
    }

    /** The worker as its own JVM, on this test's classpath and libtorch thread count (so its arithmetic is ours). */
    private Process startChildWorker(String id, ObjectStore store) throws Exception {
        ObjectStore.Config s3 = store.config();
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx1g",
                "-Dai.djl.offline=true", "-DOPT_OUT_TRACKING=true",
                "-D" + DjlRuntime.NUM_THREADS + "=" + DjlRuntime.intraOpThreads(),
                "-D" + DjlRuntime.NUM_INTEROP_THREADS + "=" + System.getProperty(DjlRuntime.NUM_INTEROP_THREADS, "1"),
                "-cp", System.getProperty("java.class.path"), TrainerWorkerProcess.class.getName(),
                servers.bootstrap(), s3.endpoint(), s3.accessKey(), s3.secretKey(), s3.bucket(),
                dir.resolve("data").toString(), dir.resolve("work-" + id).toString(), id));
        File log = dir.resolve(id + ".log").toFile();
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!Files.readString(log.toPath()).contains("trainer worker " + id + " started")) {
            if (!p.isAlive() || System.nanoTime() > deadline) {
                throw new AssertionError("the child worker did not start:\n" + Files.readString(log.toPath()));
            }
            Thread.sleep(100);
        }
        return p;
    }

    private static void shortenTrainerSessions() throws Exception {
        try (Admin admin = KafkaClients.admin(servers.bootstrap(), "test-admin")) {
            admin.incrementalAlterConfigs(Map.of(new ConfigResource(ConfigResource.Type.GROUP, Topics.TRAINER_GROUP),
                    List.of(new AlterConfigOp(new ConfigEntry("consumer.session.timeout.ms",
                            Integer.toString(SESSION_TIMEOUT_MS)), AlterConfigOp.OpType.SET)))).all()
                    .get(10, TimeUnit.SECONDS);
        }
    }
}
