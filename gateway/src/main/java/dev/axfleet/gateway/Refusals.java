package dev.axfleet.gateway;

import com.google.gson.JsonObject;
import dev.axfleet.gateway.openai.OpenAiFacade;
import java.util.Map;
import spark.Response;

/**
 * A request refused before any route saw it (no API key, a web origin not let in), answered in the error format of
 * the API its path belongs to: Ollama's {@code {"error": "..."}} on {@code /api/...}, AUTOMATIC1111's with its
 * {@code detail} on {@code /sdapi/...} and {@code /generate}, OpenAI's everywhere else.
 */
final class Refusals {
    private Refusals() {
    }

    static String body(Response res, String path, int status, String message, String code, Map<String, String> headers) {
        if (path.startsWith("/api/") || path.startsWith("/sdapi/") || path.equals("/generate")) {
            JsonObject o = new JsonObject();
            o.addProperty("error", message);
            if (!path.startsWith("/api/")) {
                o.addProperty("detail", message);
            }
            return Json.respond(res, status, o, headers);
        }
        return OpenAiFacade.error(res, new ApiException(status, message, null, code, headers));
    }
}
