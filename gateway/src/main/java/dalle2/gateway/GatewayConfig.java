package dalle2.gateway;

import dalle2.pipeline.StatusView;
import dalle2.storage.ObjectStore;
import java.time.Duration;

/**
 * What a gateway instance needs.
 *
 * @param host         interface to listen on ({@code 127.0.0.1} by default; {@code 0.0.0.0} in a container)
 * @param port         0 for any free port
 * @param presignTtl   lifetime of the presigned image URLs in status answers, 1 s to {@value #MAX_PRESIGN_TTL_TEXT}
 * @param maxJobs      bound of the in-memory status view (finished jobs are forgotten first, the longest finished first)
 * @param readyTimeout how long start waits for the status view to catch up
 * @param policy       access, rate limit, admission and retention
 * @param sizes        the image sizes the deployment serves (with or without an upsampler pool)
 * @param eventStreams bounds of the server-sent event streams (lifetime, heartbeat, how many at once)
 * @param webhooks     where jobs' webhooks may go and how they are signed ({@link WebhookConfig#OFF}: nowhere)
 */
public record GatewayConfig(String host, int port, String kafkaBootstrap, ObjectStore.Config storage,
                            Duration presignTtl, int maxJobs, Duration readyTimeout, GatewayPolicy policy,
                            ImageSizes sizes, EventStreams.Limits eventStreams,
                            WebhookConfig webhooks) {

    public static final Duration DEFAULT_PRESIGN_TTL = Duration.ofHours(1);
    public static final Duration MIN_PRESIGN_TTL = Duration.ofSeconds(1);
    /** A presigned URL is a bearer credential for one image: a day is plenty, and far below S3's 7-day limit. */
    public static final Duration MAX_PRESIGN_TTL = Duration.ofDays(1);
    static final String MAX_PRESIGN_TTL_TEXT = "1 day";
    public static final Duration DEFAULT_READY_TIMEOUT = Duration.ofSeconds(60);

    public GatewayConfig {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port must be in 0..65535, got " + port);
        }
        if (kafkaBootstrap == null || kafkaBootstrap.isBlank()) {
            throw new IllegalArgumentException("a Kafka bootstrap address is required");
        }
        if (storage == null) {
            throw new IllegalArgumentException("object storage settings are required");
        }
        if (presignTtl == null || presignTtl.compareTo(MIN_PRESIGN_TTL) < 0
                || presignTtl.compareTo(MAX_PRESIGN_TTL) > 0) {
            throw new IllegalArgumentException("presign TTL must be in " + MIN_PRESIGN_TTL + ".." + MAX_PRESIGN_TTL
                    + ", got " + presignTtl);
        }
        if (policy == null) {
            throw new IllegalArgumentException("an access policy is required");
        }
        if (sizes == null) {
            throw new IllegalArgumentException("the image sizes the deployment serves are required");
        }
        if (eventStreams == null) {
            throw new IllegalArgumentException("event stream limits are required");
        }
        if (webhooks == null) {
            throw new IllegalArgumentException("webhook settings are required (WebhookConfig.OFF for none)");
        }
    }

    /**
     * Default settings with {@link GatewayPolicy#loopback()} (explicit open mode, no rate limit or cost cap): for
     * code that starts a gateway on loopback for itself (tests, benchmarks, the embedded stack). A gateway that
     * strangers reach is built with {@link #of(String, int, String,
     * ObjectStore.Config, GatewayPolicy)}.
     */
    public static GatewayConfig of(String host, int port, String kafkaBootstrap, ObjectStore.Config storage) {
        return of(host, port, kafkaBootstrap, storage, GatewayPolicy.loopback());
    }

    public static GatewayConfig of(String host, int port, String kafkaBootstrap, ObjectStore.Config storage,
                                   GatewayPolicy policy) {
        return new GatewayConfig(host, port, kafkaBootstrap, storage, DEFAULT_PRESIGN_TTL,
                StatusView.DEFAULT_MAX_JOBS, DEFAULT_READY_TIMEOUT, policy, ImageSizes.BASE_ONLY,
                EventStreams.Limits.DEFAULT, WebhookConfig.OFF);
    }

    public GatewayConfig withPresignTtl(Duration ttl) {
        return new GatewayConfig(host, port, kafkaBootstrap, storage, ttl, maxJobs, readyTimeout, policy, sizes,
                eventStreams, webhooks);
    }

    public GatewayConfig withPolicy(GatewayPolicy p) {
        return new GatewayConfig(host, port, kafkaBootstrap, storage, presignTtl, maxJobs, readyTimeout, p, sizes,
                eventStreams, webhooks);
    }

    /** The same gateway for a deployment that serves {@code s} (e.g. with an upsampler pool). */
    public GatewayConfig withSizes(ImageSizes s) {
        return new GatewayConfig(host, port, kafkaBootstrap, storage, presignTtl, maxJobs, readyTimeout, policy, s,
                eventStreams, webhooks);
    }

    /** The same gateway with other bounds on its event streams (tests shorten the lifetime). */
    GatewayConfig withEventStreams(EventStreams.Limits limits) {
        return new GatewayConfig(host, port, kafkaBootstrap, storage, presignTtl, maxJobs, readyTimeout, policy, sizes,
                limits, webhooks);
    }

    /** The same gateway with webhooks to the operator's allowed prefixes. */
    public GatewayConfig withWebhooks(WebhookConfig w) {
        return new GatewayConfig(host, port, kafkaBootstrap, storage, presignTtl, maxJobs, readyTimeout, policy, sizes,
                eventStreams, w);
    }
}
