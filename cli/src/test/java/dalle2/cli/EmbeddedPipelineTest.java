package dalle2.cli;

import dalle2.embedded.EmbeddedS3;
import dalle2.embedded.EmbeddedServersExtension;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The pipeline contract on the in-JVM KRaft broker and S3Proxy (real servers on loopback). */
class EmbeddedPipelineTest extends PipelineContract {

    @RegisterExtension
    static final EmbeddedServersExtension servers = EmbeddedServersExtension.kafkaAndS3();

    @Override
    protected Infrastructure infrastructure() {
        EmbeddedS3 s3 = servers.s3();
        return new Infrastructure(servers.bootstrap(), s3.endpoint(), s3.accessKey(), s3.secretKey());
    }
}
