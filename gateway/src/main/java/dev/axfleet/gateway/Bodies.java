package dev.axfleet.gateway;

import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import dev.axfleet.broker.JsonFields;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import spark.Request;

/** Request bodies, read with a size bound before anything is buffered. */
public final class Bodies {
    private Bodies() {
    }

    /** The body as a JSON object: 413 when larger than {@code maxBytes}, 400 when not a JSON object. */
    public static JsonObject json(Request request, int maxBytes) throws ApiException {
        return json(request, maxBytes, "gateway.max_body_bytes");
    }

    /** As {@link #json(Request, int)}, the 413 naming {@code setting}. */
    public static JsonObject json(Request request, int maxBytes, String setting) throws ApiException {
        String text = text(request, maxBytes, setting);
        try {
            return JsonFields.parseObject(text);
        } catch (JsonParseException | IllegalStateException | StackOverflowError e) {
            throw ApiException.badRequest(null, "the body is not a JSON object ("
                    + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()) + ")");
        }
    }

    private static String text(Request request, int maxBytes, String setting) throws ApiException {
        long declared = request.raw().getContentLengthLong();
        if (declared > maxBytes) {
            throw tooLarge(maxBytes, setting);
        }
        try (InputStream in = request.raw().getInputStream()) {
            byte[] bytes = in.readNBytes(maxBytes + 1);
            if (bytes.length > maxBytes) {
                throw tooLarge(maxBytes, setting);
            }
            return new String(bytes, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw ApiException.badRequest(null, "the body could not be read: " + e.getMessage());
        }
    }

    private static ApiException tooLarge(int maxBytes, String setting) {
        return new ApiException(413, "the body is larger than " + maxBytes + " bytes (" + setting + ")", null,
                "request_too_large", Map.of());
    }
}
