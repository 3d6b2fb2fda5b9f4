package dev.axfleet.emulator;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Stands in for {@code axllm serve <dir>} on an embedding model folder ({@code "is_embedding": true};
 * AXERA-TECH/ax-llm docs/configuration.md "Embedding", src/main.cpp@00d7aaf {@code registerEmbedding}). The HTTP
 * side follows ZHEQIUSHUI/openai-api.cpp@127f3e7 {@code Server::handleEmbeddings} and
 * {@code EmbeddingsJSONEncoder}: {@code POST /v1/embeddings} (also {@code /embeddings}) with {@code model} and
 * {@code input} (a string, or an array whose non-string items are dropped); 400 {@code Invalid JSON}, {@code Missing
 * 'model' field}, {@code Missing 'input' field} and an unknown model naming the available one; the answer
 * {@code {"object":"list","data":[{"object":"embedding","index","embedding"}],"model","usage":{"prompt_tokens":0,
 * "total_tokens":0}}}, indented by two as nlohmann's {@code dump(2)} writes it; {@code encoding_format} other than
 * float and {@code dimensions} are ignored (the former with a warning in the log). One request at a time; the
 * inputs one after another (LLM::EmbedBatch), each a prefill of its tokens.
 *
 * <p>The vectors are not a model's: each is drawn from the input text's hash (so the same text gives the same
 * vector) in the model's {@code tokens_embed_size} dimensions and normalised to unit length, as the runtime's
 * pooling leaves them. It says it is an emulator in its log, in /health and in /v1/models. Assumed (docs/hardware.md):
 * an input longer than the context fails the embedding, which the server answers 504 "Request timeout" at once.
 */
final class AxllmEmbedServe {
    private final String modelName;
    private final int dimensions;
    private final ModelProfile profile;
    private final TimeScale time;
    private final Control control;
    private final long timeoutMs;
    private final ReentrantLock card = new ReentrantLock(true);

    AxllmEmbedServe(JsonObject config, TimeScale time, Control control, long timeoutMs) {
        this.modelName = config.get("model_name").getAsString();
        this.dimensions = config.get("tokens_embed_size").getAsInt();
        this.profile = ModelProfile.forName(modelName);
        this.time = time;
        this.control = control;
        this.timeoutMs = timeoutMs;
    }

    /** Whether a model folder's config.json starts the embedding mode: {@code is_embedding}, alias {@code embedding}. */
    static boolean embedding(JsonObject config) {
        for (String key : List.of("is_embedding", "embedding")) {
            JsonElement e = config.get(key);
            if (e != null && e.isJsonPrimitive() && (e.getAsJsonPrimitive().isBoolean() ? e.getAsBoolean() : e.getAsInt() != 0)) {
                return true;
            }
        }
        return false;
    }

    void run(int port) throws IOException {
        AxllmServe.say("EMULATOR: axfleet's stand-in for axllm serve (embedding), not the AX650 card (time scale " + time.scale() + ")");
        AxllmServe.say("[I] model_name: " + modelName + ", loading " + profile.name() + " profile");
        Integer remain = CardLink.attach("axllm", profile, control);
        if (!CardLink.load("axllm", profile, time)) {
            return;
        }
        AxllmServe.say("[I] init post axmodel ok,remain_cmm(" + (remain != null ? remain : 7040 - profile.cmmMiB()) + " MB)");
        AxllmServe.say("[I] max_token_len : " + profile.contextTokens());
        AxllmServe.say("[I] LLM init ok");
        Map<String, HttpHandler> routes = new HashMap<>(control.routes());
        routes.put("/health", Http.only("GET", ex -> {
            JsonObject o = new JsonObject();
            o.addProperty("status", "healthy");
            o.addProperty("concurrency", card.isLocked() ? 1 : 0);
            o.addProperty("max_concurrency", 1);
            o.addProperty("emulated", true);
            Http.json(ex, 200, o);
        }));
        routes.put("/v1/models", Http.only("GET", ex -> AxllmServe.models(ex, modelName)));
        routes.put("/models", Http.only("GET", ex -> AxllmServe.models(ex, modelName)));
        routes.put("/v1/embeddings", Http.only("POST", this::embeddings));
        routes.put("/embeddings", Http.only("POST", this::embeddings));
        Http.server("127.0.0.1", port, routes).start();
        AxllmServe.say("Starting server on port " + port + " with embedding model '" + modelName + "'...");
        AxllmServe.say("API URLs:");
        AxllmServe.say("  GET  http://127.0.0.1:" + port + "/health");
        AxllmServe.say("  GET  http://127.0.0.1:" + port + "/v1/models");
        AxllmServe.say("  POST http://127.0.0.1:" + port + "/v1/embeddings");
    }

    private void embeddings(HttpExchange ex) throws IOException {
        control.request();
        Fault fault = control.take();
        if (fault.mode() == Fault.Mode.BUSY) {
            Http.json(ex, 503, AxllmServe.error("rate_limit_exceeded", "Rate limit exceeded"));
            return;
        }
        JsonObject req = Http.jsonBody(Http.body(ex));
        if (req == null) {
            Http.json(ex, 400, AxllmServe.error("invalid_request_error", "Invalid JSON"));
            return;
        }
        String model = req.has("model") && req.get("model").isJsonPrimitive() ? req.get("model").getAsString() : "";
        List<String> inputs = new ArrayList<>();
        JsonElement input = req.get("input");
        if (input != null && input.isJsonPrimitive() && input.getAsJsonPrimitive().isString()) {
            inputs.add(input.getAsString());
        } else if (input != null && input.isJsonArray()) {
            input.getAsJsonArray().forEach(e -> {
                if (e.isJsonPrimitive() && e.getAsJsonPrimitive().isString()) {
                    inputs.add(e.getAsString());
                }
            });
        }
        if (model.isEmpty()) {
            Http.json(ex, 400, AxllmServe.error("invalid_request_error", "Missing 'model' field"));
            return;
        }
        if (inputs.isEmpty()) {
            Http.json(ex, 400, AxllmServe.error("invalid_request_error", "Missing 'input' field"));
            return;
        }
        if (!model.equals(modelName)) {
            Http.json(ex, 400, AxllmServe.error("invalid_request_error", "Model '" + model + "' is not available. Available models: " + modelName));
            return;
        }
        if (req.has("encoding_format") && !"float".equals(req.get("encoding_format").getAsString())) {
            AxllmServe.say("[W] embedding encoding_format='" + req.get("encoding_format").getAsString() + "' is not supported, using float");
        }
        try {
            if (!card.tryLock(timeoutMs, TimeUnit.MILLISECONDS)) {
                Http.json(ex, 503, AxllmServe.error("rate_limit_exceeded", "Rate limit exceeded"));
                return;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        try {
            JsonArray data = new JsonArray();
            for (int i = 0; i < inputs.size(); i++) {
                // Qwen3 embedding models append the pad/EOS token and pool the last one (src/runner/LLM_embed.cpp).
                int tokens = Tokens.ids(inputs.get(i)).size() + 1;
                if (fault.mode() == Fault.Mode.CONTEXT_FULL || tokens > profile.contextTokens()) {
                    AxllmServe.say("[E] EmbedBatch failed: input " + i + " is " + tokens + " tokens, max_token_len " + profile.contextTokens());
                    Http.json(ex, 504, AxllmServe.error("server_error", "Request timeout"));
                    return;
                }
                control.executed(inputs.get(i));
                time.npu(profile.prefillMs(tokens));
                if (i == fault.afterTokens()) {
                    switch (fault.mode()) {
                        case HANG -> AxllmServe.hang();
                        case CRASH -> AxllmServe.crash();
                        default -> {
                        }
                    }
                }
                JsonObject d = new JsonObject();
                d.addProperty("object", "embedding");
                d.addProperty("index", i);
                d.add("embedding", vector(inputs.get(i)));
                data.add(d);
            }
            JsonObject o = new JsonObject();
            o.addProperty("object", "list");
            o.add("data", data);
            o.addProperty("model", model);
            JsonObject usage = new JsonObject();
            usage.addProperty("prompt_tokens", 0);
            usage.addProperty("total_tokens", 0);
            o.add("usage", usage);
            byte[] body = new GsonBuilder().setPrettyPrinting().create().toJson(o).getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("Content-Type", "application/json");
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        } finally {
            card.unlock();
        }
    }

    /** A unit vector drawn from the text's hash: the same text, the same vector. */
    private JsonArray vector(String text) {
        SplittableRandom random = new SplittableRandom(text.hashCode() * 0x9E3779B97F4A7C15L + modelName.hashCode());
        double[] v = new double[dimensions];
        double sum = 0;
        for (int i = 0; i < dimensions; i++) {
            v[i] = random.nextDouble() * 2 - 1;
            sum += v[i] * v[i];
        }
        double norm = Math.sqrt(sum);
        JsonArray a = new JsonArray();
        for (double x : v) {
            a.add((float) (x / norm));
        }
        return a;
    }
}
