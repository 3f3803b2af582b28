package dalle2.cli;

import dalle2.gateway.Gateway;
import dalle2.gateway.GatewayConfig;
import dalle2.gateway.ImageSizes;
import dalle2.gateway.WebhookConfig;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code dalle2 gateway}: one HTTP gateway against an external Kafka and S3. */
@Command(name = "gateway", mixinStandardHelpOptions = true, description = "Run an HTTP gateway.")
public final class GatewayCommand implements Callable<Integer> {

    @Mixin
    ConnectionOptions connection;

    @Option(names = "--host", defaultValue = "${env:DALLE2_HOST:-127.0.0.1}", description = "listen address")
    String host;

    @Option(names = "--port", defaultValue = "${env:DALLE2_PORT:-8080}", description = "listen port")
    int port;

    @Mixin
    PolicyOptions policy;

    @Option(names = "--presign-ttl", paramLabel = "DURATION", defaultValue = "${env:DALLE2_PRESIGN_TTL:-PT1H}",
            description = "lifetime of presigned image URLs, PT1S..P1D (ISO-8601; env DALLE2_PRESIGN_TTL; "
                    + "default ${DEFAULT-VALUE})")
    java.time.Duration presignTtl;

    @Option(names = "--upsampler", defaultValue = "${env:DALLE2_UPSAMPLER:-false}", arity = "0..1",
            description = "an upsampler pool is deployed: serve sizes 32, 64, 128 and 256 (default 256) instead of "
                    + "32 alone (env DALLE2_UPSAMPLER; default ${DEFAULT-VALUE})")
    boolean upsampler;

    @Option(names = "--webhook-allow", split = ",", paramLabel = "URL_PREFIX",
            defaultValue = "${env:DALLE2_WEBHOOK_ALLOW:-}",
            description = "URL prefixes (absolute, ending in /) a job's webhook may start with; none: webhooks off "
                    + "(env DALLE2_WEBHOOK_ALLOW, comma-separated). The signing secret comes from the environment "
                    + "only: DALLE2_WEBHOOK_SECRET (16 bytes or more)")
    java.util.List<String> webhookAllow;

    /** Webhooks as the options and DALLE2_WEBHOOK_SECRET say; the secret never comes from the command line. */
    WebhookConfig webhooks() {
        java.util.List<String> prefixes = webhookAllow == null ? java.util.List.of()
                : webhookAllow.stream().map(String::strip).filter(p -> !p.isEmpty()).toList();
        if (prefixes.isEmpty()) {
            return WebhookConfig.OFF;
        }
        String secret = System.getenv("DALLE2_WEBHOOK_SECRET");
        if (secret == null || secret.length() < 16) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--webhook-allow needs "
                    + "DALLE2_WEBHOOK_SECRET in the environment (at least 16 characters) to sign the calls");
        }
        return WebhookConfig.allow(prefixes, secret.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        Gateway gateway = Gateway.start(GatewayConfig.of(host, port, connection.kafka, connection.storage(),
                policy.policy(false)).withPresignTtl(presignTtl)
                .withSizes(upsampler ? ImageSizes.WITH_UPSAMPLER : ImageSizes.BASE_ONLY).withWebhooks(webhooks()));
        System.out.println("gateway http://" + host + ":" + gateway.port());
        Shutdown.awaitSignalThenClose(gateway);
        return 0;
    }
}
