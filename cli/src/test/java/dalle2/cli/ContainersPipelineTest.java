package dalle2.cli;

import org.testcontainers.containers.MinIOContainer;
import org.testcontainers.junit.jupiter.Container;
import org.testcontainers.junit.jupiter.Testcontainers;
import org.testcontainers.kafka.KafkaContainer;

/**
 * The same contract against a Kafka container and a MinIO container. Skipped where no Docker daemon runs (as on
 * the build machine); the image tags could not be pulled here, so they are untested.
 */
@Testcontainers(disabledWithoutDocker = true)
class ContainersPipelineTest extends PipelineContract {

    @Container
    static final KafkaContainer KAFKA = new KafkaContainer("apache/kafka:4.1.0");

    @Container
    static final MinIOContainer MINIO = new MinIOContainer("minio/minio:RELEASE.2025-09-07T16-13-09Z");

    @Override
    protected Infrastructure infrastructure() {
        return new Infrastructure(KAFKA.getBootstrapServers(), MINIO.getS3URL(), MINIO.getUserName(),
                MINIO.getPassword());
    }
}
