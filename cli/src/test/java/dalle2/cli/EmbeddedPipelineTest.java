package dalle2.cli;

import dalle2.embedded.EmbeddedKafka;
import dalle2.embedded.EmbeddedS3;
import org.junit.jupiter.api.AfterAll;

/** The pipeline contract on the in-JVM KRaft broker and S3Proxy (real servers on loopback). */
class EmbeddedPipelineTest extends PipelineContract {

    private EmbeddedKafka kafka;
    private EmbeddedS3 s3;

    @Override
    protected Infrastructure infrastructure() {
        if (kafka == null) {
            kafka = EmbeddedKafka.start();
            s3 = EmbeddedS3.inMemory();
        }
        return new Infrastructure(kafka.bootstrap(), s3.endpoint(), s3.accessKey(), s3.secretKey());
    }

    @AfterAll
    void stopServers() {
        if (s3 != null) {
            s3.close();
        }
        if (kafka != null) {
            kafka.close();
        }
    }
}
