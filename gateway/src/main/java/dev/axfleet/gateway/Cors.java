package dev.axfleet.gateway;

import java.util.Locale;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import spark.Request;
import spark.Response;
import spark.Service;

/**
 * Cross-origin calls from web pages (a p5.js sketch, a kiosk page), on every route of every listener, as Ollama
 * answers them (gin-contrib/cors as ollama/ollama@fb30760 server/routes.go:1842-1873 sets it up):
 * <ul>
 *   <li>no {@code Origin}, or the gateway's own origin (its {@code Host}): not a cross-origin call, nothing added;</li>
 *   <li>an origin {@link CorsOrigins} does not let in: 403, whatever the method, so a page elsewhere on the network
 *       cannot even send a "simple" POST that needs no preflight (gin-contrib/cors config.go {@code applyCors});</li>
 *   <li>a preflight ({@code OPTIONS} with {@code Access-Control-Request-Method}) from an origin let in: 204 with the
 *       methods, the headers it asked for, and 12 hours to keep the answer (gin-contrib/cors' {@code DefaultConfig}),
 *       before the API key is checked (browsers send no credentials on a preflight);</li>
 *   <li>any other call from an origin let in: {@code Access-Control-Allow-Origin} on its answer, streams included, and
 *       the headers of ours worth reading exposed ({@code Retry-After} on a 503, ...).</li>
 * </ul>
 * The headers a preflight asks for are let through as asked rather than from a fixed list: the origin is trusted,
 * and the OpenAI SDKs add {@code x-stainless-*} headers release after release. Credentials (cookies) are not allowed,
 * as in Ollama; an API key travels in {@code Authorization} or {@code X-API-Key}, which the page sets itself.
 */
final class Cors {
    private static final Logger log = LoggerFactory.getLogger(Cors.class);
    static final String METHODS = "GET,POST,PUT,PATCH,DELETE,HEAD";
    static final String MAX_AGE = String.valueOf(12 * 3600);
    /** The answer headers of ours a sketch may read besides the CORS-safelisted ones: when to try again, what was cut. */
    static final String EXPOSED = "Retry-After,X-Should-Retry,X-Axfleet-Dropped-Messages";

    private final CorsOrigins origins;

    Cors(CorsOrigins origins) {
        this.origins = origins;
    }

    /** A before-filter for {@code http}: answers preflights, refuses origins not let in, marks the rest. */
    void check(Service http, Request req, Response res) {
        String origin = req.headers("Origin");
        if (origin == null || origin.isEmpty() || sameOrigin(origin, req.headers("Host"))) {
            return;
        }
        String path = req.pathInfo();
        if (!origins.allows(origin)) {
            log.warn("{} {} from a page at {} refused: not in gateway.cors_origins", req.requestMethod(), path, origin);
            String message = "web pages from " + origin + " may not call this server (gateway.cors_origins lets origins in)";
            http.halt(403, Refusals.body(res, path, 403, message, "origin_not_allowed", Map.of()));
            return;
        }
        res.header("Access-Control-Allow-Origin", origins.any() ? "*" : origin);
        if (!origins.any()) {
            res.header("Vary", "Origin");
        }
        res.header("Access-Control-Expose-Headers", EXPOSED);
        if ("OPTIONS".equals(req.requestMethod()) && req.headers("Access-Control-Request-Method") != null) {
            res.header("Access-Control-Allow-Methods", METHODS);
            String asked = req.headers("Access-Control-Request-Headers");
            if (asked != null && !asked.isBlank()) {
                res.header("Access-Control-Allow-Headers", asked);
            }
            res.header("Access-Control-Max-Age", MAX_AGE);
            // Chrome's Private Network Access: a public page (editor.p5js.org) calling a Pi on the local network asks first.
            if ("true".equalsIgnoreCase(req.headers("Access-Control-Request-Private-Network"))) {
                res.header("Access-Control-Allow-Private-Network", "true");
            }
            http.halt(204, "");
        }
    }

    static boolean sameOrigin(String origin, String host) {
        if (host == null) {
            return false;
        }
        String o = origin.toLowerCase(Locale.ROOT);
        String h = host.toLowerCase(Locale.ROOT);
        return o.equals("http://" + h) || o.equals("https://" + h);
    }
}
