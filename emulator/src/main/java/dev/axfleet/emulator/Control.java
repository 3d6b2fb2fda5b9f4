package dev.axfleet.emulator;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.sun.net.httpserver.HttpHandler;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Map;

/**
 * The emulator's own routes, under {@code /_emulator/} where no real runtime has any: tests set faults
 * and read what the runtime was asked. Also holds the fault that applies to the next answers.
 */
final class Control {
    private static final int KEEP_PROMPTS = 50;

    private Fault fault;
    private int faultUses;
    private long requests;
    private long executions;
    private long abandoned;
    private final Deque<String> prompts = new ArrayDeque<>();
    /** The last answer's pieces as the runtime handed them over, in tokens each, and the tokens a stop dropped. */
    private JsonArray lastPieces = new JsonArray();
    private int lastDropped;

    Control(Fault initial) {
        set(initial);
    }

    synchronized void set(Fault f) {
        fault = f;
        faultUses = f.times();
    }

    /** The fault for the request starting now; each use counts against its {@code times}. */
    synchronized Fault take() {
        if (fault.mode() == Fault.Mode.NONE || faultUses <= 0) {
            return Fault.NONE;
        }
        Fault f = fault;
        if (--faultUses == 0) {
            fault = Fault.NONE;
        }
        return f;
    }

    synchronized void request() {
        requests++;
    }

    /** An answer started generating; {@code prompt} is what the model saw. */
    synchronized void executed(String prompt) {
        executions++;
        prompts.addLast(prompt);
        while (prompts.size() > KEEP_PROMPTS) {
            prompts.removeFirst();
        }
    }

    /** The runtime handed over a piece of {@code tokens} tokens of the answer being generated. */
    synchronized void piece(int tokens) {
        lastPieces.add(tokens);
    }

    /** A new answer starts: its pieces are counted afresh. */
    synchronized void answerStarts() {
        lastPieces = new JsonArray();
        lastDropped = 0;
    }

    /** A stop ended the answer with {@code tokens} generated tokens never handed over. */
    synchronized void dropped(int tokens) {
        lastDropped = tokens;
    }

    synchronized void abandoned() {
        abandoned++;
    }

    synchronized JsonObject stats() {
        JsonObject o = new JsonObject();
        o.addProperty("emulated", true);
        o.addProperty("requests", requests);
        o.addProperty("executions", executions);
        o.addProperty("abandoned_by_client", abandoned);
        o.addProperty("fault", fault.mode().name().toLowerCase());
        o.add("last_pieces", lastPieces.deepCopy());
        o.addProperty("last_dropped", lastDropped);
        JsonArray p = new JsonArray();
        prompts.forEach(p::add);
        o.add("prompts", p);
        return o;
    }

    Map<String, HttpHandler> routes() {
        return Map.of(
                "/_emulator/stats", Http.only("GET", ex -> Http.json(ex, 200, stats())),
                "/_emulator/fault", Http.only("POST", ex -> {
                    JsonObject body = Http.jsonBody(Http.body(ex));
                    try {
                        set(Fault.fromJson(body));
                        Http.json(ex, 200, stats());
                    } catch (RuntimeException e) {
                        JsonObject err = new JsonObject();
                        err.addProperty("error", "expected {\"mode\": none|busy|hang|crash|context_full|wedge, \"after_tokens\": n, \"times\": n}");
                        Http.json(ex, 400, err);
                    }
                }));
    }
}
