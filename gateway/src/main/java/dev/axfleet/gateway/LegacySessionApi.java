package dev.axfleet.gateway;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.axfleet.broker.chat.ChatParams;
import dev.axfleet.broker.JsonFields;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import spark.Request;
import spark.Response;
import spark.Service;

/**
 * The legacy main_api runtime's session API, on its port 8000, over a conversation kept by axfleet
 * (../shared/axera.md §1.4, gregm123456/ax-llm:src/main_api.cpp@086f4e6): {@code POST /api/reset {"system_prompt"}},
 * {@code GET /api/stop}, {@code POST /api/generate {"prompt", "temperature", "top-p", "top-k",
 * "repetition_penalty"}} answered {@code {"status":"ok"}} at once, {@code GET /api/generate_provider} (also
 * {@code /api/content}, the name in AXERA's docs/http_api.md) giving the text since the last poll and {@code done},
 * and {@code POST /api/chat} with its first message, answered whole. Replies are 200 with JSON, errors 400
 * {@code {"error"}}, CORS open, as there.
 *
 * <p>Unlike the legacy runtime it never wedges: a full context drops the oldest turns, a stop or reset always
 * works, and {@code done} is false from the moment a generate is accepted (the legacy race answered done first).
 */
final class LegacySessionApi {
    private static final Logger log = LoggerFactory.getLogger(LegacySessionApi.class);

    private final JobRunner runner;
    private final GatewayConfig config;
    private final ConversationTurns turns;
    private final ExecutorService background = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "legacy-generate");
        t.setDaemon(true);
        return t;
    });
    /** The answer of the last /api/generate: text not yet polled, and whether it is over. */
    private final StringBuilder unread = new StringBuilder();
    private boolean running;

    LegacySessionApi(JobRunner runner, GatewayConfig config, ConversationTurns turns) {
        this.runner = runner;
        this.config = config;
        this.turns = turns;
    }

    void register(Service http) {
        http.before((req, res) -> res.header("Access-Control-Allow-Origin", "*"));
        http.options("/*", (req, res) -> {
            res.header("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
            res.header("Access-Control-Allow-Headers", "Content-Type");
            return "";
        });
        http.post("/api/reset", this::reset);
        http.get("/api/stop", (req, res) -> {
            turns.stop(turns.legacyName());
            return ok(res);
        });
        http.post("/api/generate", this::generate);
        http.get("/api/generate_provider", this::poll);
        http.get("/api/content", this::poll);
        http.post("/api/chat", this::chat);
    }

    private Object reset(Request req, Response res) {
        JsonObject body = body(req);
        String system = body != null && body.has("system_prompt") && body.get("system_prompt").isJsonPrimitive()
                ? body.get("system_prompt").getAsString() : null;
        turns.reset(turns.legacyName(), system);
        log.info("legacy session {} reset{}", turns.legacyName(), system == null ? " (system prompt kept)" : " with a new system prompt");
        return ok(res);
    }

    private Object generate(Request req, Response res) {
        JsonObject body = body(req);
        String prompt = body == null || !body.has("prompt") || !body.get("prompt").isJsonPrimitive() ? null : body.get("prompt").getAsString();
        if (prompt == null) {
            return error(res, "Invalid request format");
        }
        String model;
        ChatParams template;
        try {
            model = runner.model(dev.axfleet.broker.Kind.CHAT, turns.legacyName());
            template = sampling(body);
        } catch (ApiException e) {
            return error(res, e.getMessage());
        }
        synchronized (unread) {
            if (running) {
                return error(res, "llm is running");
            }
            running = true;
            unread.setLength(0);
        }
        RequestLog requestLog = RequestLog.of(req);
        background.execute(() -> {
            try {
                turns.turn(turns.legacyName(), model, template, prompt, new JobRunner.StreamSink() {
                    @Override
                    public void delta(String text) {
                        synchronized (unread) {
                            unread.append(text);
                        }
                    }

                    @Override
                    public void thinking(String text) {
                        // The legacy API has no place for thinking, and its clients speak the text aloud.
                    }

                    @Override
                    public void idle() {
                    }
                }, requestLog);
            } catch (ApiException e) {
                log.info("legacy generate ended without an answer: {}", e.getMessage());
            } finally {
                synchronized (unread) {
                    running = false;
                }
            }
        });
        return ok(res);
    }

    private Object poll(Request req, Response res) {
        JsonObject o = new JsonObject();
        synchronized (unread) {
            o.addProperty("response", unread.toString());
            o.addProperty("done", !running);
            unread.setLength(0);
        }
        return Json.respond(res, o);
    }

    private Object chat(Request req, Response res) {
        JsonObject body = body(req);
        JsonElement messages = body == null ? null : body.get("messages");
        if (messages == null || !messages.isJsonArray() || messages.getAsJsonArray().isEmpty()
                || !messages.getAsJsonArray().get(0).isJsonObject() || !messages.getAsJsonArray().get(0).getAsJsonObject().has("content")) {
            return error(res, "Invalid request format");
        }
        // As the legacy runtime did: only the first message is used.
        String prompt = messages.getAsJsonArray().get(0).getAsJsonObject().get("content").getAsString();
        try {
            String model = runner.model(dev.axfleet.broker.Kind.CHAT, turns.legacyName());
            dev.axfleet.broker.JobResult r = turns.turn(turns.legacyName(), model, sampling(body), prompt, null, RequestLog.of(req));
            JsonObject o = new JsonObject();
            o.addProperty("message", r.chat().text());
            o.addProperty("done", true);
            return Json.respond(res, o);
        } catch (ApiException e) {
            return error(res, e.getMessage());
        }
    }

    /** The legacy sampling keys, hyphenated as main_api reads them. */
    private static ChatParams sampling(JsonObject body) throws ApiException {
        try {
            JsonFields f = JsonFields.of(body);
            return new ChatParams(List.of(), f.optDouble("temperature", ChatParams.TEMPERATURE), positive(f.optDouble("top-p", ChatParams.TOP_P)),
                    f.optInt("top-k", ChatParams.TOP_K), null, List.of(), null, null, null, f.optDouble("repetition_penalty", ChatParams.REPEAT_PENALTY),
                    false);
        } catch (dev.axfleet.broker.FieldException e) {
            throw ApiException.badRequest(e.field(), e.getMessage());
        }
    }

    private static Double positive(Double topP) {
        return topP == null || topP <= 0 || topP >= 1 ? null : topP;
    }

    private JsonObject body(Request req) {
        try {
            return Bodies.json(req, config.maxBodyBytes());
        } catch (ApiException e) {
            return null;
        }
    }

    private static Object ok(Response res) {
        JsonObject o = new JsonObject();
        o.addProperty("status", "ok");
        return Json.respond(res, o);
    }

    private static Object error(Response res, String message) {
        log.info("legacy session API refused a request: {}", message);
        JsonObject o = new JsonObject();
        o.addProperty("error", message);
        return Json.respond(res, 400, o, Map.of());
    }
}
