package dalle2.cli;

import dalle2.gateway.ImageSizes;
import dalle2.inference.ModelProvider;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code dalle2 up}: the whole system on this machine, until Ctrl-C. */
@Command(name = "up", mixinStandardHelpOptions = true,
        description = "Start a Kafka broker (KRaft, in the JVM), S3Proxy on a local folder, the gateway and the "
                + "workers; stop with Ctrl-C.")
public final class UpCommand implements Callable<Integer> {

    @Option(names = "--port", defaultValue = "8080", description = "gateway port (default ${DEFAULT-VALUE})")
    int port;

    @Option(names = "--data-dir", defaultValue = "data", description = "Kafka log and images (default ${DEFAULT-VALUE})")
    Path dataDir;

    @Option(names = "--workers", defaultValue = "prior=1,decoder=1", split = ",",
            description = "workers per pool (default ${DEFAULT-VALUE}, and upsampler=1 when the models folder has "
                    + "an upsampler/)")
    Map<String, Integer> workers;

    @picocli.CommandLine.Mixin
    PolicyOptions policy;

    @Option(names = "--models", defaultValue = "trained_models", description = "model folder (default ${DEFAULT-VALUE})")
    Path models;

    @Option(names = "--follow-registry", description = "workers follow the model registry on this stack's "
            + "broker and S3 server (publish and pin with ./dalle2 models --kafka … --s3 …), starting from --models")
    boolean followRegistry;

    @Override
    public Integer call() throws Exception {
        for (String pool : workers.keySet()) {
            if (!pool.equals("prior") && !pool.equals("decoder") && !pool.equals("upsampler")) {
                throw new IllegalArgumentException("--workers knows prior, decoder and upsampler, not " + pool);
            }
        }
        ModelProvider provider = ModelFactory.load(models);
        int upsamplers = workers.getOrDefault("upsampler", provider.hasUpsampler() ? 1 : 0);
        EmbeddedStack stack = EmbeddedStack.start(dataDir, port, workers.getOrDefault("prior", 1),
                workers.getOrDefault("decoder", 1), upsamplers, provider, policy.policy(true),
                followRegistry ? dataDir.resolve("model-cache") : null);
        ImageSizes sizes = upsamplers > 0 ? ImageSizes.WITH_UPSAMPLER : ImageSizes.BASE_ONLY;
        System.out.println("gateway   " + stack.gatewayUrl() + "   (API: " + stack.gatewayUrl() + "/openapi.yaml)");
        System.out.println("sizes     " + sizes.available() + " px, default " + sizes.defaultSize()
                + (upsamplers > 0 ? "" : " (larger sizes need an upsampler model in " + models + "/upsampler)"));
        System.out.println("kafka     " + stack.kafkaBootstrap());
        System.out.println("s3        " + stack.s3Endpoint() + "   bucket " + EmbeddedStack.BUCKET + "   key "
                + dalle2.embedded.EmbeddedS3.DEFAULT_ACCESS_KEY + "   secret " + dalle2.embedded.EmbeddedS3.DEFAULT_SECRET_KEY
                + " (local only)");
        if (followRegistry) {
            System.out.println("registry  workers follow the models topic; publish and pin with ./dalle2 models "
                    + "--kafka " + stack.kafkaBootstrap() + " --s3 " + stack.s3Endpoint() + " --s3-key "
                    + dalle2.embedded.EmbeddedS3.DEFAULT_ACCESS_KEY + " --s3-secret "
                    + dalle2.embedded.EmbeddedS3.DEFAULT_SECRET_KEY);
        }
        System.out.println("data      " + dataDir.toAbsolutePath());
        System.out.println("Ctrl-C stops everything.");
        Shutdown.awaitSignalThenClose(stack);
        return 0;
    }
}
