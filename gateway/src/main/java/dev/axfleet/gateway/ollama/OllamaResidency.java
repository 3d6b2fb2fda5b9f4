package dev.axfleet.gateway.ollama;

import com.google.gson.JsonObject;
import dev.axfleet.broker.residency.KeepAlive;
import dev.axfleet.broker.residency.ResidencyReply;
import dev.axfleet.gateway.ApiException;
import dev.axfleet.gateway.Json;
import dev.axfleet.gateway.residency.Residency;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import spark.Response;

/**
 * Ollama's ways of loading and unloading, over {@link Residency} (ollama/ollama server/routes.go@fb30760):
 * an {@code /api/generate} with an empty prompt (an {@code /api/chat} without messages) loads the model and answers
 * {@code done_reason: "load"} (routes.go:476-487); with {@code keep_alive: 0} it unloads it instead,
 * {@code done_reason: "unload"} (routes.go:403-415); {@code /api/ps} lists what is loaded with {@code expires_at}
 * and {@code size_vram} (api/types.go:834-844), the longest to live first (routes.go:2297-2300).
 */
final class OllamaResidency {
    /** How long an unload call waits for the workers to say it is done (a model running a job unloads after it). */
    private static final Duration UNLOAD_WAIT = Duration.ofSeconds(10);

    private OllamaResidency() {
    }

    /** Answers an empty-prompt call: loads, or with keep_alive 0 unloads, then says so as Ollama does. */
    static String loadOrUnload(Residency residency, String model, String name, boolean chat, KeepAlive keepAlive, JsonObject line,
                               Response response) {
        long t0 = System.nanoTime();
        try {
            if (keepAlive != null && keepAlive.unloadNow()) {
                residency.unload(model, "ollama", UNLOAD_WAIT);
                line.addProperty("done", true);
                line.addProperty("done_reason", "unload");
                return Json.respond(response, line);
            }
            ResidencyReply r = residency.load(model, keepAlive, "ollama");
            line.addProperty("done", true);
            line.addProperty("done_reason", "load");
            line.addProperty("total_duration", System.nanoTime() - t0);
            line.addProperty("load_duration", r.loadMs() * 1_000_000);
            return Json.respond(response, line);
        } catch (ApiException e) {
            return OllamaFacade.error(response, e);
        }
    }

    /** The longest to live first, by the second as Ollama compares them; ties keep their order (by name). */
    static List<Residency.Loaded> byExpiry(List<Residency.Loaded> loaded, Instant now) {
        return loaded.stream().sorted(Comparator.comparing((Residency.Loaded l) -> expiry(l, now).getEpochSecond()).reversed()).toList();
    }

    /**
     * What {@code /api/ps} adds to a model's description: {@code expires_at} (for a model kept for ever, now plus Go's
     * longest duration, as Ollama's scheduler sets it: sched.go@fb30760:405 with keep_alive's MaxInt64), {@code size} and
     * {@code size_vram} (the card memory it holds, read back from the card when the monitor has a reading), and its context.
     * axfleet's own: {@code loading} and {@code loading_since} while it is being loaded, {@code pinned}.
     */
    static void psFields(Residency.Loaded l, JsonObject d, Instant now) {
        d.addProperty("size", l.cmmBytes());
        d.addProperty("expires_at", expiry(l, now).toString());
        d.addProperty("size_vram", l.cmmBytes());
        d.addProperty("context_length", l.contextTokens());
        if (l.loadingSince() != null) {
            d.addProperty("loading", true);
            d.addProperty("loading_since", l.loadingSince().toString());
        }
        if (l.pinned()) {
            d.addProperty("pinned", true);
        }
    }

    private static Instant expiry(Residency.Loaded l, Instant now) {
        return l.expiresAt() != null ? l.expiresAt() : now.plusNanos(Long.MAX_VALUE);
    }
}
