package dalle2.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle2.embedded.EmbeddedServersExtension;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.client.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The web page at / and its assets: served without a key, cached by ETag and versioned names, labelled. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class GatewayWebPageTest {

    @RegisterExtension
    static final EmbeddedServersExtension servers = EmbeddedServersExtension.kafkaAndS3();

    private static final String KEY = "page-key-0123456789abcdef";
    private static GatewayTestClient client;

    @BeforeAll
    static void start() throws Exception {
        Gateway gateway = servers.closeAfterAll(Gateway.start(GatewayConfig.of("127.0.0.1", 0, servers.bootstrap(),
                servers.storage("images"), GatewayPolicy.of(AccessConfig.keys(ApiKeys.parse(KEY))))
                .withSizes(ImageSizes.WITH_UPSAMPLER)));
        client = servers.closeAfterAll(new GatewayTestClient(gateway.port()));
    }

    private static List<String> assetUrls(String html) {
        List<String> urls = new ArrayList<>();
        Matcher m = Pattern.compile("(?:href|src)=\"(/web/[^\"]+)\"").matcher(html);
        while (m.find()) {
            urls.add(m.group(1));
        }
        return urls;
    }

    @Test
    void thePageIsServedWithoutAKeyRevalidatedByEtagAndAnswers304WhenUnchanged() {
        HttpResponse<Buffer> page = client.get("/");
        assertEquals(200, page.statusCode());
        assertEquals("text/html; charset=utf-8", page.getHeader("Content-Type"));
        assertEquals("no-cache", page.getHeader("Cache-Control"), "revalidated on every load");
        String etag = page.getHeader("ETag");
        assertNotNull(etag);
        assertTrue(etag.startsWith("\"") && etag.endsWith("\""), "a strong ETag: " + etag);
        assertTrue(page.getHeader("Content-Security-Policy").contains("default-src 'self'"));
        assertEquals("nosniff", page.getHeader("X-Content-Type-Options"));

        HttpResponse<Buffer> again = client.web().get("/").putHeader("If-None-Match", etag).send().await();
        assertEquals(304, again.statusCode());
        assertEquals(0, again.bodyAsBuffer() == null ? 0 : again.bodyAsBuffer().length());
        assertEquals(etag, again.getHeader("ETag"));
        assertEquals(200, client.web().get("/").putHeader("If-None-Match", "\"other\"").send().await().statusCode());
        assertEquals(401, client.get("/v1/generations/x").statusCode(), "the API behind it still needs the key");
    }

    @Test
    void assetsNamedWithTheirHashAreImmutableAndOthersAreRevalidated() {
        String html = client.get("/").bodyAsString();
        List<String> assets = assetUrls(html);
        assertEquals(2, assets.size(), "the script and the style sheet: " + assets);
        for (String url : assets) {
            assertTrue(url.matches("/web/app\\.(js|css)\\?v=[0-9a-f]{12}"), url);
            HttpResponse<Buffer> versioned = client.get(url);
            assertEquals(200, versioned.statusCode(), url);
            assertEquals("public, max-age=31536000, immutable", versioned.getHeader("Cache-Control"), url);
            assertEquals(304, client.web().get(url).putHeader("If-None-Match", "W/" + versioned.getHeader("ETag"))
                    .send().await().statusCode(), "a weak validator matches too");
            HttpResponse<Buffer> plain = client.get(url.substring(0, url.indexOf('?')));
            assertEquals("no-cache", plain.getHeader("Cache-Control"));
            assertEquals(versioned.getHeader("ETag"), plain.getHeader("ETag"));
        }
        String script = assets.stream().filter(u -> u.startsWith("/web/app.js")).findFirst().orElseThrow();
        assertEquals("text/javascript; charset=utf-8", client.get(script).getHeader("Content-Type"));
        assertEquals(404, client.get("/web/secret.txt").statusCode());
    }

    @Test
    void thePageOffersTheDeploymentsSizesAndEveryControlHasALabel() {
        String html = client.get("/").bodyAsString();
        assertTrue(html.contains("data-sizes=\"32,64,128,256\""), "the sizes this gateway serves");
        assertTrue(html.contains("data-default-size=\"256\""));
        assertTrue(html.contains("data-keys-required=\"true\""), "the page asks for a key before it calls the API");
        assertTrue(html.contains("data-variations=\"true\""));
        assertFalse(html.contains("{{"), "every placeholder is filled");
        Matcher controls = Pattern.compile("<(input|select|textarea)[^>]*\\sid=\"([^\"]+)\"").matcher(html);
        int count = 0;
        while (controls.find()) {
            count++;
            assertTrue(html.contains("<label for=\"" + controls.group(2) + "\""), "a label for #" + controls.group(2));
        }
        assertTrue(count >= 10, "the prompt, the key and the parameters: " + count);
        assertTrue(html.contains("lang=\"en\"") && html.contains("aria-live"), "language and a live region");
    }
}
