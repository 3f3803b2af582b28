package dalle2.deploy;

import dalle2.kafka.Topics;
import java.util.Arrays;
import java.util.Optional;

/**
 * The processes the project deploys, each one image: what the manifests, the compose file and the images must
 * agree on. A worker's ops port is its pool's default ({@code WorkerOptions.Pool} in the CLI; the trainer's
 * {@code TrainerWorkerCommand.DEFAULT_HTTP_PORT}); its input topic
 * bounds how many replicas get work.
 */
enum Role {
    GATEWAY("gateway", 8080, null, null),
    PRIOR_WORKER("prior-worker", 9101, Topics.REQUESTS, Topics.PRIOR_GROUP),
    DECODER_WORKER("decoder-worker", 9102, Topics.EMBEDDINGS, Topics.DECODER_GROUP),
    UPSAMPLER_WORKER("upsampler-worker", 9103, Topics.LOWRES, Topics.UPSAMPLER_GROUP),
    TRAINER_WORKER("trainer-worker", 9104, Topics.TRAINING_JOBS, Topics.TRAINER_GROUP);

    /** The GPU decoder image (deploy/Dockerfile.gpu): CUDA libtorch cannot come from Maven, so Jib does not build it. */
    static final String GPU_IMAGE = "dalle2-gpu";

    final String name;
    final int port;
    /** Input topic of a worker pool; null for the gateway. */
    final String topic;
    final String consumerGroup;

    Role(String name, int port, String topic, String consumerGroup) {
        this.name = name;
        this.port = port;
        this.topic = topic;
        this.consumerGroup = consumerGroup;
    }

    String image() {
        return "dalle2-" + name;
    }

    boolean isWorker() {
        return topic != null;
    }

    /** Partitions of the input topic: members beyond it join the group and get no work. */
    int partitions() {
        if (Topics.REQUESTS.equals(topic)) {
            return Topics.REQUESTS_PARTITIONS;
        }
        if (Topics.EMBEDDINGS.equals(topic) || Topics.LOWRES.equals(topic)) {
            // the low-resolution topic is created with as many partitions as the embeddings topic
            return Topics.EMBEDDINGS_PARTITIONS;
        }
        if (Topics.TRAINING_JOBS.equals(topic)) {
            return Topics.TRAINING_JOBS_PARTITIONS;
        }
        throw new IllegalStateException(name + " reads no topic");
    }

    static Optional<Role> named(String name) {
        return Arrays.stream(values()).filter(r -> r.name.equals(name)).findFirst();
    }

    /** The role whose image this is ({@code [registry/]dalle2-<role>[:tag]}), if any. */
    static Optional<Role> ofImage(String image) {
        String withoutTag = image.replaceFirst(":[^:/]+$", "");
        String repository = withoutTag.substring(withoutTag.lastIndexOf('/') + 1);
        return Arrays.stream(values()).filter(r -> r.image().equals(repository)).findFirst();
    }

    static boolean isGpuImage(String image) {
        String withoutTag = image.replaceFirst(":[^:/]+$", "");
        return withoutTag.substring(withoutTag.lastIndexOf('/') + 1).equals(GPU_IMAGE);
    }
}
