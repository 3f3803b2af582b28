package dalle2.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle2.embedded.EmbeddedServersExtension;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@code GET /v1/generations}: each key's own jobs, newest first, in pages, on the real broker and S3. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class GatewayListTest {

    @RegisterExtension
    static final EmbeddedServersExtension servers = EmbeddedServersExtension.kafkaAndS3();

    private static final String ALICE = "list-alice-0123456789abcdef";
    private static final String BOB = "list-bob-0123456789abcdef";
    private static GatewayTestClient keyed;
    private static GatewayTestClient open;
    private static final List<String> aliceJobs = new ArrayList<>();
    private static String bobJob;

    @BeforeAll
    static void start() throws Exception {
        Gateway g = servers.closeAfterAll(Gateway.start(GatewayConfig.of("127.0.0.1", 0, servers.bootstrap(),
                servers.storage("images"), GatewayPolicy.of(AccessConfig.keys(ApiKeys.parse(ALICE + "," + BOB))))));
        keyed = servers.closeAfterAll(new GatewayTestClient(g.port()));
        Gateway o = servers.closeAfterAll(Gateway.start(GatewayConfig.of("127.0.0.1", 0, servers.bootstrap(),
                servers.storage("images"))));
        open = servers.closeAfterAll(new GatewayTestClient(o.port()));
        for (int i = 0; i < 3; i++) {
            aliceJobs.add(submit(ALICE, "alice " + i));
            Thread.sleep(5);        // distinct submission instants: the order is by submitted_at
        }
        bobJob = submit(BOB, "bob");
    }

    private static String submit(String key, String prompt) {
        HttpResponse<Buffer> r = keyed.web().post("/v1/generations").putHeader("Authorization", "Bearer " + key)
                .putHeader("Content-Type", "application/json")
                .sendBuffer(Buffer.buffer("{\"prompt\":\"" + prompt + "\"}")).await();
        assertEquals(202, r.statusCode(), r.bodyAsString());
        return r.bodyAsJsonObject().getString("id");
    }

    private static HttpResponse<Buffer> list(GatewayTestClient c, String key, String query) {
        var r = c.web().get("/v1/generations" + query);
        if (key != null) {
            r.putHeader("Authorization", "Bearer " + key);
        }
        return r.send().await();
    }

    private static List<String> ids(JsonObject page) {
        JsonArray data = page.getJsonArray("data");
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < data.size(); i++) {
            ids.add(data.getJsonObject(i).getString("id"));
        }
        return ids;
    }

    @Test
    void aKeyListsItsOwnJobsNewestFirstInPagesAndNeverAnotherKeys() {
        HttpResponse<Buffer> first = list(keyed, ALICE, "?limit=2");
        assertEquals(200, first.statusCode(), first.bodyAsString());
        JsonObject page1 = first.bodyAsJsonObject();
        assertEquals(List.of(aliceJobs.get(2), aliceJobs.get(1)), ids(page1));
        assertEquals("queued", page1.getJsonArray("data").getJsonObject(0).getString("state"),
                "each item is the job resource");
        assertEquals("alice 2", page1.getJsonArray("data").getJsonObject(0).getJsonObject("params").getString("prompt"));
        assertEquals(aliceJobs.get(1), page1.getString("next_after"));

        JsonObject page2 = list(keyed, ALICE, "?limit=2&after=" + page1.getString("next_after")).bodyAsJsonObject();
        assertEquals(List.of(aliceJobs.get(0)), ids(page2));
        assertNull(page2.getValue("next_after"), "the last page");

        assertEquals(List.of(bobJob), ids(list(keyed, BOB, "").bodyAsJsonObject()));
        HttpResponse<Buffer> foreignCursor = list(keyed, BOB, "?after=" + aliceJobs.get(0));
        assertEquals(400, foreignCursor.statusCode(), "another key's job is no cursor: it does not exist for bob");
        assertEquals("after", foreignCursor.bodyAsJsonObject().getJsonObject("error").getString("field"));
    }

    @Test
    void openModeListsEveryJobAndTheListNeedsAKeyWhereKeysAreOn() throws InterruptedException {
        // the jobs went in through the other gateway: this one sees them once its status view has read them
        List<String> all = ids(list(open, null, "?limit=100").bodyAsJsonObject());
        long deadline = System.nanoTime() + java.time.Duration.ofSeconds(20).toNanos();
        while (!(all.containsAll(aliceJobs) && all.contains(bobJob)) && System.nanoTime() < deadline) {
            Thread.sleep(20);
            all = ids(list(open, null, "?limit=100").bodyAsJsonObject());
        }
        assertTrue(all.containsAll(aliceJobs) && all.contains(bobJob), all.toString());
        assertEquals(bobJob, all.get(0), "newest first");
        assertEquals(401, list(keyed, null, "").statusCode());
    }

    @Test
    void badParametersAre400NamingThemAndAnUnknownJobIs404() {
        for (String[] c : List.of(new String[] {"?limit=0", "limit"}, new String[] {"?limit=101", "limit"},
                new String[] {"?limit=x", "limit"}, new String[] {"?after=no-such-job", "after"},
                new String[] {"?page=2", "page"})) {
            HttpResponse<Buffer> r = list(keyed, ALICE, c[0]);
            assertEquals(400, r.statusCode(), c[0]);
            assertEquals(c[1], r.bodyAsJsonObject().getJsonObject("error").getString("field"), c[0]);
        }
        HttpResponse<Buffer> unknown = keyed.web().get("/v1/generations/no-such-job")
                .putHeader("Authorization", "Bearer " + ALICE).send().await();
        assertEquals(404, unknown.statusCode());
    }
}
