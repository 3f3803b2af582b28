package dalle2.trainer.worker;

import dalle2.kafka.KafkaClients;
import dalle2.kafka.Topics;
import dalle2.messages.Messages;
import dalle2.messages.TrainingRequest;
import dalle2.messages.TrainingStatus;
import dalle2.pipeline.TrainingStatusView;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.function.Predicate;
import javax.imageio.ImageIO;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;

/** What the trainer worker tests share: a tiny captioned dataset, the topics, submitting, waiting for a status. */
final class TrainingFixtures {

    static final String DATASET = "jsonl:squares";
    private static final String[] COLOURS = {"red", "green", "blue", "yellow", "black", "white", "cyan", "magenta"};
    private static final Color[] VALUES = {Color.RED, Color.GREEN, Color.BLUE, Color.YELLOW, Color.BLACK, Color.WHITE,
            Color.CYAN, Color.MAGENTA};

    private TrainingFixtures() {
    }

    /** Eight 32 px squares with their colour as the caption, in {@code <dataDir>/squares/captions.jsonl}. */
    static void writeSquares(Path dataDir) throws IOException {
        Path dir = Files.createDirectories(dataDir.resolve("squares"));
        StringBuilder jsonl = new StringBuilder();
        for (int i = 0; i < COLOURS.length; i++) {
            BufferedImage square = new BufferedImage(32, 32, BufferedImage.TYPE_INT_RGB);
            Graphics2D g = square.createGraphics();
            g.setColor(Color.GRAY);
            g.fillRect(0, 0, 32, 32);
            g.setColor(VALUES[i]);
            g.fillRect(8, 8, 16, 16);
            g.dispose();
            ImageIO.write(square, "png", dir.resolve(i + ".png").toFile());
            jsonl.append("{\"image\": \"").append(i).append(".png\", \"caption\": \"a ").append(COLOURS[i])
                    .append(" square\"}\n");
        }
        Files.writeString(dir.resolve("captions.jsonl"), jsonl);
    }

    /** A CLIP job small enough for a test: the default CLIP at a 32-d embedding, batches of 4. */
    static TrainingRequest clipJob(String id, long steps, int checkpointEvery) {
        return TrainingRequest.of(id, "clip", DATASET, steps, Map.of("batch_size", 4, "checkpoint_every",
                checkpointEvery, "log_interval", 1, "warmup", 1, "embedding_dim", 32, "context_length", 8, "ema", 0.9,
                "seed", 3), null, Instant.now());
    }

    static void createTopics(String bootstrap) {
        try (Admin admin = KafkaClients.admin(bootstrap, "test-admin")) {
            // one job partition: a second worker gets the job only once the first has left the group
            Topics.ensure(admin, Topics.trainingSpecs(1, 1), 30_000);
        }
    }

    /** Submits as the gateway does: the queued status first, then the job; returns the job record's offset. */
    static long submit(Producer<String, byte[]> producer, TrainingRequest request) throws Exception {
        producer.send(new ProducerRecord<>(Topics.TRAINING_STATUS, request.trainingId(),
                Messages.encode(TrainingStatus.queued(request)))).get();
        return producer.send(new ProducerRecord<>(Topics.TRAINING_JOBS, request.trainingId(), Messages.encode(request)))
                .get().offset();
    }

    static TrainingStatus await(TrainingStatusView view, String id, Predicate<TrainingStatus> until, Duration timeout)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            TrainingStatus s = view.get(id).orElse(null);
            if (s != null && until.test(s)) {
                return s;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("training " + id + " did not get there within " + timeout + "; last status: "
                + view.get(id).map(Messages::encode).map(String::new).orElse("none"));
    }
}
