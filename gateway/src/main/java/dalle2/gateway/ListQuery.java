package dalle2.gateway;

import io.vertx.ext.web.RoutingContext;

/**
 * The query of a list route ({@code GET /v1/generations}, {@code GET /v1/trainings}): {@code limit} (default
 * {@value #DEFAULT_LIMIT}, at most {@value #MAX_LIMIT}) and {@code after}, the last id of the previous page.
 * Any other parameter is a 400 naming it.
 */
record ListQuery(int limit, String after) {

    static final int MAX_LIMIT = 100;
    static final int DEFAULT_LIMIT = 20;

    static ListQuery parse(RoutingContext ctx) {
        for (String name : ctx.queryParams().names()) {
            if (!name.equals("limit") && !name.equals("after")) {
                throw ApiError.badRequest("invalid_request", "unknown query parameter " + name
                        + "; the list takes limit and after", name);
            }
        }
        int limit = DEFAULT_LIMIT;
        String limitText = ctx.queryParams().get("limit");
        if (limitText != null) {
            try {
                limit = Integer.parseInt(limitText);
            } catch (NumberFormatException e) {
                limit = -1;
            }
            if (limit < 1 || limit > MAX_LIMIT) {
                throw ApiError.badRequest("invalid_request", "limit must be an integer in 1.." + MAX_LIMIT, "limit");
            }
        }
        return new ListQuery(limit, ctx.queryParams().get("after"));
    }
}
