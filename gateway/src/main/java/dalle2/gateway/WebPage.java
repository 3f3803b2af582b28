package dalle2.gateway;

import dalle2.messages.ApiDefaults;
import dalle2.messages.SamplerKind;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.RoutingContext;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The web page at {@code /} and its two assets, plain files among the gateway's resources (no build step): read
 * once at start, with the page's settings (the sizes this deployment serves) written into the HTML.
 *
 * <p>Caching: every answer has a strong ETag (a hash of its bytes) and answers {@code If-None-Match} with 304. The
 * HTML is {@code no-cache} (revalidated on every load, so a new gateway version shows at once); it names each
 * asset with its hash ({@code app.js?v=…}), so an asset asked for by that name is {@code immutable} for a year,
 * and one asked for otherwise is revalidated like the HTML.
 */
final class WebPage implements Handler<RoutingContext> {

    static final String PAGE = "/";
    static final String ASSETS = "/web/";
    /** Scripts, styles, images and connections from this origin only; images also as the page's blob: copies. */
    static final String CONTENT_SECURITY_POLICY = "default-src 'self'; img-src 'self' blob: data:; "
            + "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

    private record Resource(Buffer bytes, String contentType, String etag, String version) {
    }

    private final Resource page;
    private final Map<String, Resource> assets = new LinkedHashMap<>();

    /**
     * @param sizes      the sizes the page offers
     * @param variations   whether the page offers variations of an image ({@code POST /v1/variations})
     * @param keysRequired whether the API needs a key here (the page then asks for one before it calls the API)
     */
    WebPage(ImageSizes sizes, boolean variations, boolean keysRequired) {
        for (String[] asset : List.of(new String[] {"app.js", "text/javascript; charset=utf-8"},
                new String[] {"app.css", "text/css; charset=utf-8"})) {
            assets.put(asset[0], resource(read(asset[0]), asset[1]));
        }
        String html = new String(read("index.html"), StandardCharsets.UTF_8)
                .replace("{{sizes}}", sizes.available().stream().map(String::valueOf).collect(Collectors.joining(",")))
                .replace("{{default_size}}", String.valueOf(sizes.defaultSize()))
                .replace("{{variations}}", String.valueOf(variations))
                .replace("{{keys_required}}", String.valueOf(keysRequired))
                .replace("{{prior_sampler_default}}", ApiDefaults.PRIOR_SAMPLER.configName())
                .replace("{{decoder_sampler_default}}", ApiDefaults.DECODER_SAMPLER.configName())
                .replace("{{prior_steps_default}}", String.valueOf(ApiDefaults.PRIOR_SAMPLER.defaultPriorSteps()))
                .replace("{{decoder_steps_default}}", String.valueOf(ApiDefaults.DECODER_SAMPLER.defaultDecoderSteps()));
        for (SamplerKind kind : SamplerKind.values()) {
            html = html.replace("{{prior_steps_" + kind.configName() + "}}", String.valueOf(kind.defaultPriorSteps()))
                    .replace("{{decoder_steps_" + kind.configName() + "}}", String.valueOf(kind.defaultDecoderSteps()));
        }
        for (Map.Entry<String, Resource> a : assets.entrySet()) {
            html = html.replace("{{" + a.getKey() + "}}", ASSETS + a.getKey() + "?v=" + a.getValue().version());
        }
        page = resource(html.getBytes(StandardCharsets.UTF_8), "text/html; charset=utf-8");
    }

    @Override
    public void handle(RoutingContext ctx) {
        String path = ctx.normalizedPath();
        Resource r;
        boolean versioned = false;
        if (path.equals(PAGE) || path.equals("/index.html")) {
            r = page;
        } else if (path.startsWith(ASSETS) && assets.containsKey(path.substring(ASSETS.length()))) {
            r = assets.get(path.substring(ASSETS.length()));
            versioned = r.version().equals(ctx.request().getParam("v"));
        } else {
            ctx.fail(ApiError.notFound("no such resource: " + path));
            return;
        }
        var response = ctx.response()
                .putHeader("ETag", r.etag())
                .putHeader("Cache-Control", versioned ? "public, max-age=31536000, immutable" : "no-cache")
                .putHeader("X-Content-Type-Options", "nosniff");
        if (r == page) {
            response.putHeader("Content-Security-Policy", CONTENT_SECURITY_POLICY)
                    .putHeader("Referrer-Policy", "no-referrer");
        }
        if (matches(ctx.request().getHeader("If-None-Match"), r.etag())) {
            response.setStatusCode(304).end();
            return;
        }
        response.putHeader("Content-Type", r.contentType());
        if (ctx.request().method() == io.vertx.core.http.HttpMethod.HEAD) {
            response.putHeader("Content-Length", String.valueOf(r.bytes().length())).end();
        } else {
            response.end(r.bytes());
        }
    }

    /** {@code If-None-Match}: a list of ETags or {@code *}; weak ones compare by their opaque part (RFC 9110 13.1.2). */
    static boolean matches(String ifNoneMatch, String etag) {
        if (ifNoneMatch == null) {
            return false;
        }
        for (String candidate : ifNoneMatch.split(",")) {
            String c = candidate.strip();
            if (c.equals("*") || c.equals(etag) || c.startsWith("W/") && c.substring(2).equals(etag)) {
                return true;
            }
        }
        return false;
    }

    private static Resource resource(byte[] bytes, String contentType) {
        String hash = sha256(bytes);
        return new Resource(Buffer.buffer(bytes), contentType, "\"" + hash.substring(0, 32) + "\"", hash.substring(0, 12));
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] read(String name) {
        try (InputStream in = WebPage.class.getResourceAsStream("web/" + name)) {
            if (in == null) {
                throw new IllegalStateException("web resource " + name + " missing");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
