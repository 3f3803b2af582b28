package dalle2.embedded;

import dalle2.kafka.KafkaClients;
import dalle2.kafka.Topics;
import dalle2.storage.ObjectStore;
import java.util.ArrayDeque;
import java.util.Deque;
import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A real in-JVM Kafka broker (and, if asked, S3Proxy) for one test class, shared by the modules' tests (this class
 * ships in the {@code embedded} test jar). The servers start before the class's {@code @BeforeAll} methods and
 * stop after its {@code @AfterAll} methods; what the class hands to {@link #closeAfterAll} is closed first, the
 * last registered first, so clients never outlive their broker and one failing close does not leak the rest.
 *
 * <pre>{@code
 * @RegisterExtension
 * static final EmbeddedServersExtension servers = EmbeddedServersExtension.kafkaAndS3();
 * }</pre>
 */
public final class EmbeddedServersExtension implements BeforeAllCallback, AfterAllCallback {

    private static final long TOPIC_TIMEOUT_MS = 30_000;

    private final boolean withS3;
    private final Deque<AutoCloseable> resources = new ArrayDeque<>();
    private EmbeddedKafka kafka;
    private EmbeddedS3 s3;

    private EmbeddedServersExtension(boolean withS3) {
        this.withS3 = withS3;
    }

    public static EmbeddedServersExtension kafkaAndS3() {
        return new EmbeddedServersExtension(true);
    }

    public static EmbeddedServersExtension kafkaOnly() {
        return new EmbeddedServersExtension(false);
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        kafka = EmbeddedKafka.start();
        if (withS3) {
            s3 = EmbeddedS3.inMemory();
        }
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        Exception failure = null;
        while (!resources.isEmpty()) {
            failure = closeRecording(resources.pop(), failure);
        }
        failure = closeRecording(s3, failure);
        failure = closeRecording(kafka, failure);
        s3 = null;
        kafka = null;
        if (failure != null) {
            throw failure;
        }
    }

    /** Closes {@code resource} after the class's tests, before the servers; returns it for inline use. */
    public <T extends AutoCloseable> T closeAfterAll(T resource) {
        resources.push(resource);
        return resource;
    }

    public EmbeddedKafka kafka() {
        if (kafka == null) {
            throw new IllegalStateException("the embedded broker runs only between beforeAll and afterAll");
        }
        return kafka;
    }

    public String bootstrap() {
        return kafka().bootstrap();
    }

    public EmbeddedS3 s3() {
        if (s3 == null) {
            throw new IllegalStateException(withS3 ? "the embedded S3 server runs only between beforeAll and afterAll"
                    : "this extension was made with kafkaOnly(): use kafkaAndS3() for an S3 server");
        }
        return s3;
    }

    /** Client settings for {@code bucket} on the embedded S3 server. */
    public ObjectStore.Config storage(String bucket) {
        EmbeddedS3 server = s3();
        return new ObjectStore.Config(server.endpoint(), server.accessKey(), server.secretKey(), bucket);
    }

    /** Creates the pipeline's topics with these partition counts (those that exist are left as they are). */
    public void createTopics(int requestPartitions, int embeddingPartitions, int statusPartitions) {
        try (Admin admin = KafkaClients.admin(bootstrap(), "test-admin")) {
            Topics.ensure(admin, Topics.specs(requestPartitions, embeddingPartitions, statusPartitions),
                    TOPIC_TIMEOUT_MS);
        }
    }

    private static Exception closeRecording(AutoCloseable resource, Exception earlier) {
        if (resource == null) {
            return earlier;
        }
        try {
            resource.close();
            return earlier;
        } catch (Exception e) {
            if (earlier == null) {
                return e;
            }
            earlier.addSuppressed(e);
            return earlier;
        }
    }
}
