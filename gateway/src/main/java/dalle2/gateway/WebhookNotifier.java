package dalle2.gateway;

import dalle2.json.Json;
import dalle2.kafka.KafkaClients;
import dalle2.kafka.Topics;
import dalle2.messages.JobStatus;
import dalle2.messages.Messages;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * POSTs each job's final state to its {@code webhook}. The gateways share the work as one consumer group
 * ({@value #GROUP}) on the status topic: each partition, so each job, has one sender at a time, and the offset is
 * committed only after the call was delivered or given up on. Delivery is at least once (a gateway that dies
 * mid-call leaves it to the next owner of the partition; a redelivered final status calls again): receivers
 * de-duplicate on {@value #DELIVERY_HEADER}.
 *
 * <p>Each call is signed: {@value #SIGNATURE_HEADER} is {@code sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">}
 * with the operator's secret, {@value #TIMESTAMP_HEADER} the Unix seconds it was signed at, so a receiver can
 * check the sender and refuse replays. A try that fails (a connection error, a timeout, a status other than 2xx)
 * is retried with doubling waits up to {@link WebhookConfig#maxAttempts()}; a 4xx other than 408 and 429 is
 * not retried. Redirects are not followed: the allow-list names where calls go.
 */
final class WebhookNotifier implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(WebhookNotifier.class);
    static final String GROUP = "gateway-webhooks";
    static final String SIGNATURE_HEADER = "X-Dalle2-Signature";
    static final String TIMESTAMP_HEADER = "X-Dalle2-Timestamp";
    static final String DELIVERY_HEADER = "X-Dalle2-Delivery";
    private static final Duration POLL = Duration.ofMillis(200);

    private final String bootstrap;
    private final WebhookConfig config;
    private final HttpClient http;
    private final Thread thread;
    private volatile boolean running = true;
    private volatile KafkaConsumer<String, byte[]> consumer;

    WebhookNotifier(String bootstrap, WebhookConfig config) {
        this.bootstrap = bootstrap;
        this.config = config;
        this.http = HttpClient.newBuilder().connectTimeout(config.timeout()).followRedirects(HttpClient.Redirect.NEVER)
                .version(HttpClient.Version.HTTP_1_1).build();
        this.thread = new Thread(this::run, "gateway-webhooks");
        this.thread.setDaemon(true);
    }

    WebhookNotifier start() {
        thread.start();
        return this;
    }

    private void run() {
        while (running) {
            try (KafkaConsumer<String, byte[]> c = KafkaClients.groupConsumer(bootstrap, GROUP,
                    KafkaClients.clientId("gateway-webhooks"))) {
                consumer = c;
                c.subscribe(List.of(Topics.STATUS));
                while (running) {
                    for (ConsumerRecord<String, byte[]> record : c.poll(POLL)) {
                        handle(record);
                    }
                    c.commitSync();
                }
            } catch (WakeupException e) {
                // closing
            } catch (RuntimeException e) {
                if (running) {
                    LOG.warn("webhook sender restarting after {}", e.toString());
                    sleep(Duration.ofSeconds(1));
                }
            } finally {
                consumer = null;
            }
        }
    }

    private void handle(ConsumerRecord<String, byte[]> record) {
        if (record.value() == null) {
            return;
        }
        JobStatus s;
        try {
            s = Messages.decode(record.value(), JobStatus.class);
        } catch (RuntimeException e) {
            return;         // the status view logs unreadable statuses; nothing to call for them
        }
        if (!s.state().terminal() || s.request() == null || s.request().webhook() == null) {
            return;
        }
        deliver(s.request().webhook(), s.jobId() + ":" + s.state().wire(), body(s));
    }

    /** The job's final state: what a receiver needs to act, with the gateway's links (no presigned URLs). */
    static byte[] body(JobStatus s) {
        Map<String, Object> b = new LinkedHashMap<>();
        b.put("id", s.jobId());
        b.put("state", s.state().wire());
        b.put("params", Representations.Params.of(s.request()));
        b.put("models", s.models());
        b.put("timestamps", s.timestamps());
        b.put("error", s.error());
        List<Map<String, Object>> images = new ArrayList<>();
        for (int k = 0; k < s.imageKeys().size(); k++) {
            images.add(Map.of("index", k, "url", "/v1/generations/" + s.jobId() + "/images/" + k + ".png"));
        }
        b.put("images", images);
        return Json.writeBytes(b);
    }

    /** Signs {@code "<timestamp>.<body>"} with the secret: the value of {@value #SIGNATURE_HEADER}. */
    static String signature(byte[] secret, long timestamp, byte[] body) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret, "HmacSHA256"));
            mac.update((timestamp + ".").getBytes(StandardCharsets.US_ASCII));
            return "sha256=" + HexFormat.of().formatHex(mac.doFinal(body));
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private void deliver(String url, String delivery, byte[] body) {
        Duration wait = config.firstRetry();
        for (int attempt = 1; attempt <= config.maxAttempts() && running; attempt++) {
            long now = Instant.now().getEpochSecond();
            String outcome;
            try {
                HttpResponse<Void> r = http.send(HttpRequest.newBuilder(URI.create(url)).timeout(config.timeout())
                        .header("Content-Type", "application/json")
                        .header(TIMESTAMP_HEADER, Long.toString(now))
                        .header(SIGNATURE_HEADER, signature(config.secret(), now, body))
                        .header(DELIVERY_HEADER, delivery)
                        .header("User-Agent", "dalle2-gateway")
                        .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
                        HttpResponse.BodyHandlers.discarding());
                int status = r.statusCode();
                if (status / 100 == 2) {
                    return;
                }
                outcome = "HTTP " + status;
                if (status / 100 == 4 && status != 408 && status != 429) {
                    LOG.warn("webhook {} for {} refused ({}); not retried", host(url), delivery, outcome);
                    return;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (Exception e) {
                outcome = e.getClass().getSimpleName();
            }
            if (attempt == config.maxAttempts()) {
                LOG.warn("webhook {} for {} failed {} times (last: {}); given up", host(url), delivery, attempt,
                        outcome);
                return;
            }
            sleep(wait);
            wait = wait.multipliedBy(2).compareTo(config.maxRetryWait()) > 0 ? config.maxRetryWait()
                    : wait.multipliedBy(2);
        }
    }

    /** Logs name the receiver's host only: a webhook URL may carry a token in its path. */
    private static String host(String url) {
        URI u = URI.create(url);
        return u.getScheme() + "://" + u.getHost() + (u.getPort() < 0 ? "" : ":" + u.getPort());
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        running = false;
        KafkaConsumer<String, byte[]> c = consumer;
        if (c != null) {
            c.wakeup();
        }
        try {
            thread.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
