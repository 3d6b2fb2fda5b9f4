package dev.axfleet.gateway;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.axfleet.broker.CardCodec;
import dev.axfleet.broker.CardHealth;
import dev.axfleet.broker.WorkerState;
import dev.axfleet.config.BuildInfo;
import dev.axfleet.gateway.bus.Bus;
import java.util.List;
import java.util.Map;
import spark.Request;
import spark.Response;

/**
 * {@code GET /health}, honest in the llama.cpp server's way: 200 {@code ok} only when the broker is
 * connected and every known model has a worker that takes its jobs (ready, or unloaded on purpose: its next job loads
 * it), otherwise 503 with what is missing; each worker says where its model stands on the card and, while it loads,
 * for how long it has been loading. Says when
 * any model runs on axfleet's emulator instead of the card, and what the monitors said about each card
 * ({@code card_down} while one is lost or being reset), and which axfleet answers (its version and commit).
 * Reads state only; probes nothing.
 */
final class Health {
    private final Bus client;
    private final ModelRegistry registry;
    private final Listeners listeners;

    Health(Bus client, ModelRegistry registry, Listeners listeners) {
        this.client = client;
        this.registry = registry;
        this.listeners = listeners;
    }

    Object handle(Request request, Response response) {
        boolean broker = client.connected();
        boolean allReady = broker;
        boolean emulated = false;
        JsonObject models = new JsonObject();
        for (Map.Entry<String, List<WorkerState>> e : registry.workersByModel().entrySet()) {
            String model = e.getKey();
            boolean ready = registry.ready(model);
            allReady &= registry.available(model);
            emulated |= registry.emulated(model);
            JsonObject m = new JsonObject();
            m.addProperty("ready", ready);
            m.addProperty("available", registry.available(model));
            JsonArray kinds = new JsonArray();
            registry.kinds(model).forEach(k -> kinds.add(k.wire()));
            m.add("kinds", kinds);
            m.addProperty("emulated", registry.emulated(model));
            m.addProperty("pending", client.pending(model));
            JsonArray workers = new JsonArray();
            for (WorkerState w : e.getValue()) {
                JsonObject wo = new JsonObject();
                wo.addProperty("worker", w.worker());
                wo.addProperty("phase", w.phase().wire());
                wo.addProperty("runtime", w.runtime());
                wo.addProperty("emulated", w.emulated());
                wo.addProperty("context_tokens", w.contextTokens());
                wo.addProperty("jobs_done", w.jobsDone());
                wo.addProperty("jobs_failed", w.jobsFailed());
                wo.addProperty("strikes", w.strikes());
                wo.addProperty("queued", w.queued());
                if (w.lastError() != null) {
                    wo.addProperty("last_error", w.lastError());
                }
                if (w.card() != null) {
                    wo.addProperty("card", w.card().toString());
                }
                if (w.held() != null) {
                    wo.addProperty("held", w.held());
                }
                if (w.since() != null) {
                    wo.addProperty("since", w.since().toString());
                    if (w.phase() == WorkerState.Phase.LOADING) {
                        wo.addProperty("loading_for_ms", Math.max(0, java.time.Duration.between(w.since(), java.time.Instant.now()).toMillis()));
                    }
                }
                if (w.residence() != null) {
                    wo.addProperty("cmm_mib", w.residence().cmmMiB());
                    wo.addProperty("pinned", w.residence().pinned());
                    wo.addProperty("keep_alive", w.residence().keepAlive().seconds());
                    if (w.residence().lastUsed() != null) {
                        wo.addProperty("last_used", w.residence().lastUsed().toString());
                    }
                    if (w.residence().expiresAt() != null) {
                        wo.addProperty("expires_at", w.residence().expiresAt().toString());
                    }
                }
                workers.add(wo);
            }
            m.add("workers", workers);
            models.add(model, m);
        }
        allReady &= !registry.models().isEmpty();
        boolean cardDown = false;
        JsonObject cards = new JsonObject();
        for (CardHealth h : registry.cards().values()) {
            boolean fresh = registry.freshCard(h.card()).isPresent();
            cardDown |= fresh && h.state().down();
            JsonObject c = CardCodec.healthJson(h);
            c.remove("v");
            c.addProperty("stale", !fresh);
            cards.add(h.card().toString(), c);
        }
        JsonObject body = new JsonObject();
        body.addProperty("status", !broker ? "broker_unreachable" : cardDown ? "card_down" : allReady ? "ok" : "loading");
        body.addProperty("broker", broker ? "connected" : "disconnected");
        body.addProperty("version", BuildInfo.current().version());
        body.addProperty("commit", BuildInfo.current().commit());
        body.addProperty("emulated", emulated);
        if (emulated) {
            body.addProperty("note", "EMULATED: no AX650 card; answers come from axfleet's emulator");
        }
        body.add("models", models);
        body.add("cards", cards);
        JsonObject ports = new JsonObject();
        listeners.states().forEach((port, state) -> ports.addProperty(String.valueOf(port), state));
        body.add("ports", ports);
        return Json.respond(response, allReady ? 200 : 503, body, Map.of());
    }
}
