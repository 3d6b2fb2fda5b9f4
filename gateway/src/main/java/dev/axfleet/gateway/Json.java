package dev.axfleet.gateway;

import com.google.gson.JsonElement;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import spark.Response;

/** JSON replies with Content-Type and Content-Length set (HTTP/1.0 clients cannot read chunked bodies). */
public final class Json {
    private Json() {
    }

    public static String respond(Response response, int status, JsonElement body, Map<String, String> headers) {
        String text = body.toString();
        response.status(status);
        response.type("application/json");
        headers.forEach(response::header);
        response.raw().setContentLength(text.getBytes(StandardCharsets.UTF_8).length);
        return text;
    }

    public static String respond(Response response, JsonElement body) {
        return respond(response, 200, body, Map.of());
    }
}
