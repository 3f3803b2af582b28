package dalle2.gateway;

import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;
import java.util.Locale;

/**
 * 415 for a JSON body declared in another charset than UTF-8: JSON on the wire is UTF-8 (RFC 8259), and the
 * decoder would otherwise guess the encoding from the bytes.
 */
final class JsonCharset implements Handler<RoutingContext> {

    private static final String UTF_8 = "utf-8";

    @Override
    public void handle(RoutingContext ctx) {
        String type = ctx.request().getHeader("Content-Type");
        String charset = null;
        if (type != null) {
            for (String param : type.split(";")) {
                String p = param.strip().toLowerCase(Locale.ROOT);
                if (p.startsWith("charset=")) {
                    charset = p.substring("charset=".length()).replace("\"", "").strip();
                }
            }
        }
        if (charset != null && !charset.equals(UTF_8) && !charset.equals("utf8")) {
            ctx.fail(new ApiError(415, "unsupported_media_type", "JSON bodies are UTF-8; charset " + charset
                    + " is not accepted", "Content-Type"));
            return;
        }
        ctx.next();
    }
}
