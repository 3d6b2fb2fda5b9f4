package dev.axfleet.gateway;

import com.google.gson.JsonObject;
import dev.axfleet.broker.CardRef;
import dev.axfleet.broker.Command;
import dev.axfleet.broker.JsonFields;
import dev.axfleet.broker.Topics;
import dev.axfleet.gateway.openai.OpenAiFacade;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.MessageDigest;
import java.time.Clock;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
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
    private static final Set<PosixFilePermission> TOO_OPEN = Set.of(PosixFilePermission.GROUP_READ, PosixFilePermission.GROUP_WRITE,
            PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE);

    private final JobClient client;
    private final byte[] token;
    private final Clock clock;

    Admin(JobClient client, Path tokenFile, Clock clock) {
        this.client = client;
        this.token = tokenFile == null ? null : readToken(tokenFile).getBytes(StandardCharsets.UTF_8);
        this.clock = clock;
    }

    /** The token in {@code file}; refuses a file others can read, as ssh does with keys. */
    static String readToken(Path file) {
        try {
            Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
            if (perms.stream().anyMatch(TOO_OPEN::contains)) {
                throw new IllegalStateException("gateway.admin_token_file " + file + " is readable by others; chmod 600 it");
            }
            String t = Files.readString(file).strip();
            if (t.length() < 16) {
                throw new IllegalStateException("gateway.admin_token_file " + file + " holds fewer than 16 characters");
            }
            return t;
        } catch (IOException e) {
            throw new IllegalStateException("gateway.admin_token_file " + file + " cannot be read: " + e.getMessage(), e);
        }
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

    private void authorize(Request req) throws ApiException {
        if (token == null) {
            throw new ApiException(403, "admin routes are disabled: set gateway.admin_token_file to a 0600 file holding a token", null,
                    "admin_disabled", Map.of());
        }
        String auth = Optional.ofNullable(req.headers("Authorization")).orElse("");
        byte[] given = auth.startsWith("Bearer ") ? auth.substring(7).strip().getBytes(StandardCharsets.UTF_8) : new byte[0];
        if (!MessageDigest.isEqual(given, token)) {
            throw new ApiException(401, "admin token missing or wrong (Authorization: Bearer <token from gateway.admin_token_file>)", null,
                    "invalid_admin_token", Map.of("WWW-Authenticate", "Bearer"));
        }
    }
}
