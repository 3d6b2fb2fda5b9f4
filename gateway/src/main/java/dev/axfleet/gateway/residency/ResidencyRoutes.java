package dev.axfleet.gateway.residency;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.axfleet.broker.residency.KeepAlive;
import dev.axfleet.broker.residency.ResidencyReply;
import dev.axfleet.gateway.ApiException;
import dev.axfleet.gateway.Bodies;
import dev.axfleet.gateway.Json;
import dev.axfleet.gateway.ModelRegistry;
import dev.axfleet.gateway.openai.OpenAiFacade;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import spark.Request;
import spark.Response;
import spark.Service;

/**
 * The OpenAI side's model management, behind the admin token: {@code POST /v1/models/load}
 * ({@code {"model": "...", "keep_alive": "10m"}}: 200 once the model is on the card, with how long its load took; 503
 * "insufficient card memory" naming what holds it) and {@code POST /v1/models/unload} ({@code {"model": "..."}}; 409 for a
 * pinned model). The routes llama.cpp's router mode has as {@code /models/load} and {@code /models/unload}
 * (ggml-org/llama.cpp tools/server README), with Ollama's keep_alive. Errors in OpenAI's shape.
 */
public final class ResidencyRoutes {
    private static final Logger log = LoggerFactory.getLogger(ResidencyRoutes.class);
    private static final Duration UNLOAD_WAIT = Duration.ofSeconds(60);

    /** Refuses a request that does not carry the admin token (gateway.admin_token_file). */
    public interface Authorizer {
        void check(Request request) throws ApiException;
    }

    private final Residency residency;
    private final ModelRegistry registry;
    private final Authorizer admin;
    private final int maxBodyBytes;

    public ResidencyRoutes(Residency residency, ModelRegistry registry, Authorizer admin, int maxBodyBytes) {
        this.residency = residency;
        this.registry = registry;
        this.admin = admin;
        this.maxBodyBytes = maxBodyBytes;
    }

    public void register(Service http) {
        http.post("/v1/models/load", this::load);
        http.post("/v1/models/unload", this::unload);
    }

    private Object load(Request req, Response res) {
        try {
            admin.check(req);
            JsonObject body = Bodies.json(req, maxBodyBytes);
            String model = model(body);
            KeepAlive keep = keepAlive(body);
            long t0 = System.nanoTime();
            ResidencyReply r = residency.load(model, keep, "admin-http");
            JsonObject o = new JsonObject();
            o.addProperty("object", "model.load");
            o.addProperty("model", model);
            o.addProperty("status", "loaded");
            o.addProperty("success", true);
            o.addProperty("worker", r.worker());
            o.addProperty("load_ms", r.loadMs());
            o.addProperty("waited_ms", (System.nanoTime() - t0) / 1_000_000);
            if (keep != null) {
                o.addProperty("keep_alive", keep.seconds());
            }
            return Json.respond(res, 200, o, Map.of());
        } catch (ApiException e) {
            log.warn("{} {} refused: {}", req.requestMethod(), req.pathInfo(), e.getMessage());
            return OpenAiFacade.error(res, e);
        }
    }

    private Object unload(Request req, Response res) {
        try {
            admin.check(req);
            JsonObject body = Bodies.json(req, maxBodyBytes);
            String model = model(body);
            List<ResidencyReply> replies = residency.unload(model, "admin-http", UNLOAD_WAIT);
            JsonObject o = new JsonObject();
            o.addProperty("object", "model.unload");
            o.addProperty("model", model);
            o.addProperty("status", "unloaded");
            o.addProperty("success", true);
            JsonArray workers = new JsonArray();
            for (ResidencyReply r : replies) {
                JsonObject w = new JsonObject();
                w.addProperty("worker", r.worker());
                w.addProperty("outcome", r.outcome().wire());
                if (r.message() != null) {
                    w.addProperty("message", r.message());
                }
                workers.add(w);
            }
            o.add("workers", workers);
            return Json.respond(res, 200, o, Map.of());
        } catch (ApiException e) {
            log.warn("{} {} refused: {}", req.requestMethod(), req.pathInfo(), e.getMessage());
            return OpenAiFacade.error(res, e);
        }
    }

    /** The model a request names, by any name a client may use for it (an alias, {@code :latest}), of any kind. */
    private String model(JsonObject body) throws ApiException {
        JsonElement m = body.get("model");
        if (m == null || !m.isJsonPrimitive() || !m.getAsJsonPrimitive().isString() || m.getAsString().isBlank()) {
            throw ApiException.badRequest("model", "model is required: the name of a model here (" + String.join(", ", registry.names()) + ")");
        }
        String name = registry.target(m.getAsString());
        if (!registry.knows(name)) {
            throw ApiException.modelNotFound(m.getAsString(), registry.names());
        }
        return name;
    }

    static KeepAlive keepAlive(JsonObject body) throws ApiException {
        JsonElement k = body.get("keep_alive");
        if (k == null || k.isJsonNull()) {
            return null;
        }
        try {
            return KeepAlive.parse(k);
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest("keep_alive", e.getMessage());
        }
    }
}
