package dev.axfleet.gateway;

import com.google.gson.JsonObject;
import dev.axfleet.broker.CardRef;
import dev.axfleet.broker.Command;
import dev.axfleet.broker.JsonFields;
import dev.axfleet.broker.Topics;
import dev.axfleet.gateway.bus.Bus;
import dev.axfleet.gateway.openai.OpenAiFacade;
import java.time.Clock;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import spark.Request;
import spark.Response;

/**
 * Admin routes, behind a token read from a file only its owner can read (mode 0600):
 * {@code POST /admin/cards/{host}/{card}/reset} asks that host's monitor to reset the card, over the
 * card's control topic. Without a token file the routes answer 403 and say how to enable them.
 */
final class Admin {
    private static final Logger log = LoggerFactory.getLogger(Admin.class);

    private final Bus client;
    private final byte[] token;
    private final Clock clock;

    /** @param token the token from {@code gateway.admin_token_file}, or null: admin routes disabled */
    Admin(Bus client, byte[] token, Clock clock) {
        this.client = client;
        this.token = token;
        this.clock = clock;
    }

    Object resetCard(Request req, Response res) {
        try {
            authorize(req);
            String host = req.params(":host");
            String index = req.params(":card");
            if (!Topics.isSegment(host) || !index.matches("\\d{1,3}") || Integer.parseInt(index) > 255) {
                throw ApiException.badRequest("card", "expected /admin/cards/{host}/{0..255}/reset");
            }
            CardRef card = new CardRef(host, Integer.parseInt(index));
            JsonObject body = body(req.body());
            String reason = body.has("reason") && body.get("reason").isJsonPrimitive() ? body.get("reason").getAsString() : null;
            client.control(card, new Command(Command.RESET, reason, "admin-http", clock.instant())).get(5, TimeUnit.SECONDS);
            log.warn("card {} reset requested over HTTP from {}{}", card, req.ip(), reason == null ? "" : ": " + reason);
            JsonObject out = new JsonObject();
            out.addProperty("status", "requested");
            out.addProperty("card", card.toString());
            out.addProperty("events", Topics.cardEvents(card));
            return Json.respond(res, 202, out, Map.of());
        } catch (ApiException e) {
            log.warn("admin {} {} refused: {}", req.requestMethod(), req.pathInfo(), e.getMessage());
            return OpenAiFacade.error(res, e);
        } catch (Exception e) {
            return OpenAiFacade.error(res, ApiException.busy("the broker did not take the request: " + e, 5));
        }
    }

    private static JsonObject body(String text) throws ApiException {
        if (text == null || text.isBlank()) {
            return new JsonObject();
        }
        try {
            return JsonFields.parseObject(text);
        } catch (RuntimeException | StackOverflowError e) {
            throw ApiException.badRequest("body", "expected a JSON object such as {\"reason\": \"...\"}");
        }
    }

    /** Refuses a request without the admin token (the residency routes ask it too). */
    void authorize(Request req) throws ApiException {
        if (token == null) {
            throw new ApiException(403, "admin routes are disabled: set gateway.admin_token_file to a 0600 file holding a token", null,
                    "admin_disabled", Map.of());
        }
        if (!Secrets.bearerMatches(req.headers("Authorization"), token)) {
            throw new ApiException(401, "admin token missing or wrong (Authorization: Bearer <token from gateway.admin_token_file>)", null,
                    "invalid_admin_token", Map.of("WWW-Authenticate", "Bearer"));
        }
    }
}
