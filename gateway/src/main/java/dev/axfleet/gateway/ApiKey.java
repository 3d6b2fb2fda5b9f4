package dev.axfleet.gateway;

import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import spark.Request;
import spark.Response;
import spark.Service;

/**
 * The optional API key: with {@code gateway.api_key_file} set, the OpenAI ({@code /v1/...}), Ollama
 * ({@code /api/...}), AUTOMATIC1111 ({@code /sdapi/...}) and {@code /generate} routes need the key, given the
 * way the installations' clients give it: {@code Authorization: Bearer <key>} (the OpenAI SDKs), HTTP Basic
 * with the key as the password (the kiosk, the Pico's passthrough) or {@code X-API-Key: <key>}. A missing or
 * wrong key is a 401 in the facade's own error format. Without a key nothing is checked: a client that always
 * sends credentials is never refused for them. The page's data ({@code /fleet}) needs it too; the page itself, {@code /health}
 * and {@code /metrics} stay open.
 */
final class ApiKey {
    private static final Logger log = LoggerFactory.getLogger(ApiKey.class);

    private final byte[] key;

    /** @param key the key from {@code gateway.api_key_file}, or null when none is needed */
    ApiKey(byte[] key) {
        this.key = key;
    }

    /** A before-filter for {@code http}: halts the request with 401 unless it carries the key. */
    void check(Service http, Request req, Response res) {
        String path = req.pathInfo();
        String authorization = req.headers("Authorization");
        if (key == null || !guarded(path) || Secrets.bearerMatches(authorization, key) || Secrets.basicMatches(authorization, key)
                || Secrets.plainMatches(req.headers("X-API-Key"), key)) {
            return;
        }
        log.warn("{} {} from {} refused: no valid API key", req.requestMethod(), path, req.ip());
        String message = "a valid API key is required (Authorization: Bearer <key>, HTTP Basic with the key as password, or X-API-Key)";
        Map<String, String> headers = Map.of("WWW-Authenticate", "Bearer");
        String body = Refusals.body(res, path, 401, message, "invalid_api_key", headers);
        http.halt(401, body);
    }

    private static boolean guarded(String path) {
        return path.startsWith("/v1/") || path.startsWith("/api/") || path.startsWith("/sdapi/") || path.equals("/generate")
                || path.equals(dev.axfleet.gateway.page.FleetPage.STATE_PATH);
    }
}
