package dalle2.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dalle2.embedded.EmbeddedKafka;
import dalle2.embedded.EmbeddedS3;
import dalle2.storage.ObjectStore;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.client.HttpResponse;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * With its broker gone, the gateway never answers a submission 202: the send from the event loop is only
 * buffered, and the answer waits for an acknowledgement that cannot come, then is 503 with Retry-After.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class GatewayBrokerDownTest {

    @Test
    void aSubmissionWhileTheBrokerIsDownIsNever202AndEndsIn503() throws Exception {
        EmbeddedKafka kafka = EmbeddedKafka.start();
        boolean kafkaStopped = false;
        try (EmbeddedS3 s3 = EmbeddedS3.inMemory()) {
            ObjectStore.Config storage = new ObjectStore.Config(s3.endpoint(), s3.accessKey(), s3.secretKey(), "images");
            try (Gateway gateway = Gateway.start(GatewayConfig.of("127.0.0.1", 0, kafka.bootstrap(), storage));
                 GatewayTestClient client = new GatewayTestClient(gateway.port())) {
                assertEquals(202, submit(client, "before the outage").await().statusCode());

                kafka.close();
                kafkaStopped = true;
                Future<HttpResponse<Buffer>> during = submit(client, "during the outage");
                Thread.sleep(3_000);
                assertFalse(during.isComplete() && during.result().statusCode() == 202,
                        "no 202 without the broker's acknowledgement");
                HttpResponse<Buffer> answer = during.await();
                assertEquals(503, answer.statusCode(), answer.bodyAsString());
                assertEquals(String.valueOf(GatewayVerticle.RETRY_AFTER_SECONDS), answer.getHeader("Retry-After"));
            }
        } finally {
            if (!kafkaStopped) {
                kafka.close();
            }
        }
    }

    private static Future<HttpResponse<Buffer>> submit(GatewayTestClient client, String prompt) {
        return client.web().post("/v1/generations").putHeader("Content-Type", "application/json")
                .sendBuffer(Buffer.buffer("{\"prompt\":\"" + prompt + "\"}"));
    }
}
