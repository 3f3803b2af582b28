package dalle2.cli;

import dalle2.storage.ObjectStore;
import picocli.CommandLine.Option;

/** Where the external Kafka cluster and object storage are: options, or environment variables. */
public final class ConnectionOptions {

    @Option(names = "--kafka", paramLabel = "HOST:PORT", defaultValue = "${env:DALLE2_KAFKA:-127.0.0.1:9092}",
            description = "Kafka bootstrap servers (env DALLE2_KAFKA; default ${DEFAULT-VALUE})")
    String kafka;

    @Option(names = "--s3", paramLabel = "URL", defaultValue = "${env:DALLE2_S3:-http://127.0.0.1:9000}",
            description = "S3 / MinIO endpoint (env DALLE2_S3; default ${DEFAULT-VALUE})")
    String s3;

    @Option(names = "--s3-key", defaultValue = "${env:DALLE2_S3_KEY}", description = "access key (env DALLE2_S3_KEY)")
    String s3Key;

    @Option(names = "--s3-secret", defaultValue = "${env:DALLE2_S3_SECRET}",
            description = "secret key (env DALLE2_S3_SECRET)")
    String s3Secret;

    @Option(names = "--bucket", defaultValue = "${env:DALLE2_BUCKET:-" + EmbeddedStack.BUCKET + "}",
            description = "bucket of the images (env DALLE2_BUCKET; default ${DEFAULT-VALUE})")
    String bucket;

    ObjectStore.Config storage() {
        return new ObjectStore.Config(s3, s3Key, s3Secret, bucket);
    }
}
