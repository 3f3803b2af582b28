package dalle2.embedded;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle2.kafka.KafkaClients;
import dalle2.kafka.Topics;
import io.minio.GetObjectArgs;
import io.minio.MakeBucketArgs;
import io.minio.MinioClient;
import io.minio.PutObjectArgs;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The embedded stack keeps its data between runs: what `./dalle2 generate` and `./dalle2 up` rely on. */
@Timeout(120)
class EmbeddedRestartTest {

    @Test
    void aBrokerRestartedTwiceOnItsOwnFolderKeepsItsClusterIdRecordsAndCommittedOffsets(@TempDir Path dir)
            throws Exception {
        String clusterId;
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir)) {
            clusterId = EmbeddedKafka.existingClusterId(dir);
            try (Admin admin = KafkaClients.admin(kafka.bootstrap(), "restart-test")) {
                Topics.ensure(admin, Topics.specs(2, 2, 2), 10_000);
            }
            try (KafkaProducer<String, byte[]> p = KafkaClients.producer(kafka.bootstrap(), "restart-producer")) {
                p.send(new ProducerRecord<>(Topics.REQUESTS, "job-1", utf8("first"))).get();
                p.send(new ProducerRecord<>(Topics.REQUESTS, "job-1", utf8("second"))).get();
            }
            assertEquals(List.of("first"), readAndCommit(kafka.bootstrap(), 1));
        }
        for (int run = 2; run <= 3; run++) {
            try (EmbeddedKafka kafka = EmbeddedKafka.start(dir)) {
                assertEquals(clusterId, EmbeddedKafka.existingClusterId(dir), "run " + run);
                List<String> values = run == 2 ? readAndCommit(kafka.bootstrap(), 1) : readAndCommit(kafka.bootstrap(), 0);
                // the group resumes after its commit: run 2 gets the second record only, run 3 nothing new
                assertEquals(run == 2 ? List.of("second") : List.of(), values, "run " + run);
            }
        }
    }

    @Test
    void anS3ServerRestartedOnItsFolderServesTheObjectsItStoredBefore(@TempDir Path dir) throws Exception {
        try (EmbeddedS3 s3 = EmbeddedS3.onDisk(dir, EmbeddedS3.DEFAULT_ACCESS_KEY, EmbeddedS3.DEFAULT_SECRET_KEY)) {
            MinioClient c = client(s3);
            c.makeBucket(MakeBucketArgs.builder().bucket("kept").build());
            byte[] png = utf8("not really a png");
            c.putObject(PutObjectArgs.builder().bucket("kept").object("job/0.png")
                    .stream(new ByteArrayInputStream(png), (long) png.length, -1L).build());
        }
        try (EmbeddedS3 s3 = EmbeddedS3.onDisk(dir, EmbeddedS3.DEFAULT_ACCESS_KEY, EmbeddedS3.DEFAULT_SECRET_KEY);
             InputStream in = client(s3).getObject(GetObjectArgs.builder().bucket("kept").object("job/0.png").build())) {
            assertEquals("not really a png", new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
    }

    private static MinioClient client(EmbeddedS3 s3) {
        return MinioClient.builder().endpoint(s3.endpoint()).credentials(s3.accessKey(), s3.secretKey())
                .region("us-east-1").build();
    }

    /** Reads up to {@code expected} records as group "restart-group" (waiting a little longer for none) and commits. */
    private static List<String> readAndCommit(String bootstrap, int expected) {
        List<String> got = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> c = KafkaClients.groupConsumer(bootstrap, "restart-group", "c")) {
            c.subscribe(List.of(Topics.REQUESTS));
            long deadline = System.currentTimeMillis() + (expected == 0 ? 6_000 : 30_000);
            while (got.size() < Math.max(expected, 1) && System.currentTimeMillis() < deadline) {
                for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(200))) {
                    got.add(new String(r.value(), StandardCharsets.UTF_8));
                    if (got.size() == expected) {
                        c.commitSync(java.util.Map.of(new org.apache.kafka.common.TopicPartition(r.topic(),
                                r.partition()), new org.apache.kafka.clients.consumer.OffsetAndMetadata(r.offset() + 1)));
                        return got;
                    }
                }
            }
        }
        assertTrue(got.isEmpty() || got.size() == expected, got.toString());
        return got;
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
