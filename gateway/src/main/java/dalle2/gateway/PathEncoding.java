package dalle2.gateway;

import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;

/**
 * 400 for a path with a malformed percent-escape ({@code %zz}, a truncated {@code %2}), before any route decodes
 * its parameters (the decoder's exception would otherwise surface as a 500).
 */
final class PathEncoding implements Handler<RoutingContext> {

    private static final String HEX = "0123456789abcdefABCDEF";

    @Override
    public void handle(RoutingContext ctx) {
        String path = ctx.request().path();
        if (path != null && !wellFormed(path)) {
            ctx.fail(ApiError.badRequest("invalid_path", "the path has a malformed percent-encoding", null));
            return;
        }
        ctx.next();
    }

    static boolean wellFormed(String path) {
        for (int i = 0; i < path.length(); i++) {
            if (path.charAt(i) == '%') {
                if (i + 2 >= path.length() || HEX.indexOf(path.charAt(i + 1)) < 0
                        || HEX.indexOf(path.charAt(i + 2)) < 0) {
                    return false;
                }
                i += 2;
            }
        }
        return true;
    }
}
