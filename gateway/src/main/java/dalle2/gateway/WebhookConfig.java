package dalle2.gateway;

import dalle2.messages.GenerationRequest;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Locale;

/**
 * Where webhooks may go and how they are signed, as the operator configured it. A job's {@code webhook} must start
 * with one of {@code allowed} (each an absolute URL prefix with scheme, host and port, such as
 * {@code https://hooks.example.com/dalle2/}): the gateway never POSTs to an address its operator did not name, so
 * a caller cannot aim it at internal services. No prefixes: webhooks are off and a job asking for one is refused.
 *
 * @param allowed     URL prefixes a webhook may start with
 * @param secret      the HMAC-SHA256 key of the {@value WebhookNotifier#SIGNATURE_HEADER} header
 * @param maxAttempts deliveries tried per final state, the first included
 * @param firstRetry  wait before the second try, doubling up to {@code maxRetryWait}
 * @param timeout     connect and response timeout of one try
 */
public record WebhookConfig(List<String> allowed, byte[] secret, int maxAttempts, Duration firstRetry,
                            Duration maxRetryWait, Duration timeout) {

    public static final WebhookConfig OFF = new WebhookConfig(List.of(), new byte[0], 1, Duration.ofSeconds(1),
            Duration.ofSeconds(1), Duration.ofSeconds(10));
    /** Six tries over about 31 s: a receiver that restarts gets the call; one that is down for long does not. */
    public static final int DEFAULT_MAX_ATTEMPTS = 6;
    public static final Duration DEFAULT_FIRST_RETRY = Duration.ofSeconds(1);
    public static final Duration DEFAULT_MAX_RETRY_WAIT = Duration.ofSeconds(16);
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);

    public WebhookConfig {
        allowed = List.copyOf(allowed);
        for (String prefix : allowed) {
            URI u = URI.create(prefix);
            String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT);
            if (!(scheme.equals("http") || scheme.equals("https")) || u.getHost() == null || !prefix.endsWith("/")) {
                throw new IllegalArgumentException("a webhook prefix is an absolute http(s) URL ending in /, got "
                        + prefix);
            }
        }
        if (!allowed.isEmpty() && secret.length < 16) {
            throw new IllegalArgumentException("webhooks need a signing secret of at least 16 bytes");
        }
        if (maxAttempts < 1 || maxAttempts > 20) {
            throw new IllegalArgumentException("webhook attempts must be in 1..20, got " + maxAttempts);
        }
        secret = secret.clone();
    }

    /** Webhooks to the given prefixes, signed with {@code secret}, with the default retries. */
    public static WebhookConfig allow(List<String> prefixes, byte[] secret) {
        return new WebhookConfig(prefixes, secret, DEFAULT_MAX_ATTEMPTS, DEFAULT_FIRST_RETRY, DEFAULT_MAX_RETRY_WAIT,
                DEFAULT_TIMEOUT);
    }

    public boolean enabled() {
        return !allowed.isEmpty();
    }

    /** Refuses a webhook this deployment may not call: 400 naming the field {@code webhook}. */
    void check(String url) {
        if (!enabled()) {
            throw ApiError.badRequest("invalid_request", "webhooks are not enabled on this gateway", "webhook");
        }
        if (url.length() > GenerationRequest.MAX_WEBHOOK_CHARS || allowed.stream().noneMatch(url::startsWith)
                || url.contains("@") || url.contains("/../") || url.contains("\\")) {
            throw ApiError.badRequest("invalid_request", "webhook must start with one of the URLs this gateway "
                    + "allows: " + allowed, "webhook");
        }
    }

    @Override
    public String toString() {
        return "WebhookConfig[allowed=" + allowed + ", maxAttempts=" + maxAttempts + "]";   // never the secret
    }
}
