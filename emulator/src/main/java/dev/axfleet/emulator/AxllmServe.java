package dev.axfleet.emulator;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Stands in for {@code axllm serve <model_dir> [--port N] [--server_timeout_ms MS]} (AXERA-TECH/ax-llm,
 * branch axllm; docs/configuration.md). Its HTTP layer follows ZHEQIUSHUI/openai-api.cpp:src/server.cpp and
 * include/openai_api/encoder/encoder.hpp: {@code /health}, {@code /v1/models}, {@code /v1/chat/completions}
 * (also without {@code /v1}); one answer at a time; 503 {@code rate_limit_exceeded} when no slot frees within
 * the timeout; 400 for bad JSON and unknown models; SSE chunks whose deltas carry role and content, a final
 * chunk with {@code finish_reason} and {@code usage}, then {@code data: [DONE]}.
 *
 * <p>It says it is an emulator in its log, in {@code /health}, in {@code /v1/models} and in every answer.
 */
public final class AxllmServe {
    /** Keys axllm requires in config.json (docs/configuration.md). */
    static final List<String> REQUIRED_KEYS = List.of("model_name", "tokenizer_type", "url_tokenizer_model",
            "template_filename_axmodel", "axmodel_num", "filename_post_axmodel", "filename_tokens_embed",
            "tokens_embed_num", "tokens_embed_size");

    private final String modelName;
    private final ModelProfile profile;
    private final TimeScale time;
    private final Control control;
    private final long timeoutMs;
    private final int maxOutputTokens;
    private final int defaultMaxTokens;
    private final int slots;
    private final boolean prefixCache;
    /** config.json's thinking switch; null: the model's default (Qwen3 thinks). */
    private final Boolean configThinking;
    private final ReentrantLock card = new ReentrantLock(true);
    /** Token ids of recent prompts, most recent first: the multi-slot prefix KV cache. */
    private final LinkedList<List<Integer>> kvSlots = new LinkedList<>();

    AxllmServe(JsonObject config, TimeScale time, Control control, long timeoutMs) {
        this.modelName = config.get("model_name").getAsString();
        this.profile = ModelProfile.forName(modelName);
        this.time = time;
        this.control = control;
        this.timeoutMs = timeoutMs;
        this.maxOutputTokens = intOr(config, "server_max_output_tokens", 0);
        this.defaultMaxTokens = intOr(config, "server_default_max_tokens", 0);
        this.slots = Math.max(1, intOr(config, "kv_cache_slots", 1));
        // Not a runtime setting: the emulator's switch to measure what the runtime's prefix reuse is worth.
        this.prefixCache = !"off".equals(System.getenv("AXFLEET_EMULATOR_PREFIX_CACHE"));
        this.configThinking = thinking(config);
    }

    /** {@code serve <model_dir> [--port N] [--server_timeout_ms MS]}. */
    static void main(List<String> args) throws Exception {
        if (args.size() < 2 || !args.get(0).equals("serve")) {
            System.err.println("usage: axllm serve <model_dir> [--port N] [--server_timeout_ms MS]   (axfleet emulator)");
            System.exit(2);
        }
        Path dir = Path.of(args.get(1));
        Map<String, String> flags = Flags.parse(args.subList(2, args.size()));
        Path configFile = dir.resolve("config.json");
        if (!Files.isRegularFile(configFile)) {
            System.err.println("[E] config.json not found in " + dir);
            System.exit(1);
        }
        JsonObject config = Http.jsonBody(Files.readString(configFile));
        if (config == null) {
            System.err.println("[E] config.json is not a JSON object: " + configFile);
            System.exit(1);
        }
        if (config.has("image_variants") && config.get("image_variants").isJsonArray()) {
            int port = Integer.parseInt(flags.getOrDefault("port", "8000"));
            new AxllmImageServe(config.getAsJsonArray("image_variants"), TimeScale.fromEnvironment()).run(port);
            return;
        }
        for (String key : REQUIRED_KEYS) {
            if (!config.has(key)) {
                System.err.println("[E] config.json missing required key: " + key);
                System.exit(1);
            }
        }
        int port = Integer.parseInt(flags.getOrDefault("port", String.valueOf(intOr(config, "port", 8000))));
        long timeoutMs = Long.parseLong(flags.getOrDefault("server_timeout_ms", String.valueOf(intOr(config, "server_timeout_ms", 300_000))));
        TimeScale time = TimeScale.fromEnvironment();
        Control control = new Control(Fault.parse(System.getenv("AXFLEET_EMULATOR_FAULT")));
        if (AxllmEmbedServe.embedding(config)) {
            new AxllmEmbedServe(config, time, control, timeoutMs).run(port);
            return;
        }
        AxllmServe serve = new AxllmServe(config, time, control, timeoutMs);
        serve.run(port);
    }

    void run(int port) throws IOException {
        say("EMULATOR: axfleet's stand-in for axllm serve, not the AX650 card (time scale " + time.scale() + ")");
        say("[I] model_name: " + modelName + ", loading " + profile.name() + " profile");
        Integer remain = CardLink.attach("axllm", profile, control);
        if (!time.sleep(profile.loadMs())) {
            return;
        }
        say("[I] init post axmodel ok,remain_cmm(" + (remain != null ? remain : 7040 - profile.cmmMiB()) + " MB)");
        say("[I] max_token_len : " + profile.contextTokens());
        say("[I] LLM init ok");
        say("server request/queue timeout: " + timeoutMs + " ms");
        Map<String, HttpHandler> routes = new HashMap<>(control.routes());
        routes.put("/health", Http.only("GET", this::health));
        routes.put("/v1/models", Http.only("GET", this::models));
        routes.put("/models", Http.only("GET", this::models));
        routes.put("/v1/chat/completions", Http.only("POST", this::chat));
        routes.put("/chat/completions", Http.only("POST", this::chat));
        HttpServer server = Http.server("127.0.0.1", port, routes);
        server.start();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            say("[I] signal received, stopping server");
            server.stop(0);
        }));
        say("OpenAI API Server starting on http://127.0.0.1:" + port);
        say("Max concurrency: 1");
        say("Models: " + modelName);
    }

    private void health(HttpExchange ex) throws IOException {
        JsonObject o = new JsonObject();
        o.addProperty("status", "healthy");
        o.addProperty("concurrency", card.isLocked() ? 1 : 0);
        o.addProperty("max_concurrency", 1);
        o.addProperty("emulated", true);
        Http.json(ex, 200, o);
    }

    private void models(HttpExchange ex) throws IOException {
        models(ex, modelName);
    }

    /** {@code GET /v1/models} as openai-api.cpp lists a served model, owned by the emulator. */
    static void models(HttpExchange ex, String modelName) throws IOException {
        JsonObject m = new JsonObject();
        m.addProperty("id", modelName);
        m.addProperty("object", "model");
        m.addProperty("created", System.currentTimeMillis() / 1000);
        m.addProperty("owned_by", "axfleet-emulator (not the card)");
        JsonArray data = new JsonArray();
        data.add(m);
        JsonObject o = new JsonObject();
        o.addProperty("object", "list");
        o.add("data", data);
        Http.json(ex, 200, o);
    }

    private void chat(HttpExchange ex) throws IOException {
        control.request();
        Fault fault = control.take();
        if (fault.mode() == Fault.Mode.BUSY) {
            Http.json(ex, 503, error("rate_limit_exceeded", "Rate limit exceeded"));
            return;
        }
        JsonObject req = Http.jsonBody(Http.body(ex));
        if (req == null) {
            Http.json(ex, 400, error("invalid_request_error", "Invalid JSON: parse error"));
            return;
        }
        String model = req.has("model") && req.get("model").isJsonPrimitive() ? req.get("model").getAsString() : "";
        if (model.isEmpty()) {
            Http.json(ex, 400, error("invalid_request_error", "Missing 'model' field"));
            return;
        }
        if (!model.equals(modelName)) {
            Http.json(ex, 400, error("invalid_request_error",
                    "Model '" + model + "' is not available. Available models: " + modelName));
            return;
        }
        Boolean requested = thinking(req);
        if (requested == null && req.has("chat_template_kwargs") && req.get("chat_template_kwargs").isJsonObject()) {
            requested = thinking(req.getAsJsonObject("chat_template_kwargs"));
        }
        boolean explicit = requested != null;
        boolean think = qwen3() && (explicit ? requested : configThinking == null || configThinking);
        String prompt = render(req.getAsJsonArray("messages"));
        if (qwen3() && !think) {
            // The no-think switch as the Qwen3 template does it: an empty thinking block after the generation prompt.
            prompt += "<think>\n\n</think>\n\n";
        }
        List<Integer> ids = Tokens.ids(prompt);
        if (fault.mode() == Fault.Mode.CONTEXT_FULL || ids.size() >= profile.contextTokens()) {
            Http.json(ex, 400, error("invalid_request_error", "prompt is " + ids.size()
                    + " tokens; the context holds " + profile.contextTokens()));
            return;
        }
        try {
            if (!card.tryLock(timeoutMs, TimeUnit.MILLISECONDS)) {
                Http.json(ex, 503, error("rate_limit_exceeded", "Rate limit exceeded"));
                return;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        try {
            generate(ex, req, prompt, ids, fault, think);
        } finally {
            card.unlock();
        }
    }

    private void generate(HttpExchange ex, JsonObject req, String prompt, List<Integer> ids, Fault fault, boolean think) throws IOException {
        control.executed(prompt);
        boolean stream = req.has("stream") && req.get("stream").getAsBoolean();
        long seed = req.has("seed") && !req.get("seed").isJsonNull() ? req.get("seed").getAsLong() : 0;
        double temperature = req.has("temperature") && !req.get("temperature").isJsonNull() ? req.get("temperature").getAsDouble() : 0;
        List<String> tokens = TextGenerator.tokens(modelName, prompt, seed, temperature);
        if (think) {
            // Qwen3 writes its own tags when it thinks, so the server adds none.
            List<String> thought = new ArrayList<>(List.of("<think>", "\n"));
            thought.addAll(TextGenerator.thinking(prompt, seed));
            thought.addAll(List.of("\n", "</think>", "\n\n"));
            thought.addAll(tokens);
            tokens = thought;
        }
        int limit = maxTokens(req);
        if (tokens.size() > limit) {
            tokens = tokens.subList(0, limit);
        }
        time.sleep(profile.prefillMs(ids.size() - (prefixCache ? reuse(ids) : 0)));

        String id = "chatcmpl-" + UUID.randomUUID().toString().replace("-", "").substring(0, 24);
        long created = System.currentTimeMillis() / 1000;
        OutputStream out = null;
        if (stream) {
            ex.getResponseHeaders().set("Content-Type", "text/event-stream");
            ex.getResponseHeaders().set("Cache-Control", "no-cache");
            ex.sendResponseHeaders(200, 0);
            out = ex.getResponseBody();
        }
        StringBuilder text = new StringBuilder();
        boolean clientGone = false;
        for (int i = 0; i < tokens.size(); i++) {
            if (i == fault.afterTokens()) {
                strike(fault);
            }
            if (i > 0) {
                time.sleep(profile.decodeMsPerToken());
            }
            text.append(tokens.get(i));
            if (out != null && !clientGone) {
                try {
                    sse(out, delta(id, created, tokens.get(i)));
                } catch (IOException e) {
                    // The card keeps generating after the client goes (conservative: not verified on hardware).
                    clientGone = true;
                    control.abandoned();
                }
            }
        }
        if (fault.afterTokens() >= tokens.size()) {
            strike(fault);
        }
        JsonObject usage = new JsonObject();
        usage.addProperty("prompt_tokens", ids.size());
        usage.addProperty("completion_tokens", tokens.size());
        usage.addProperty("total_tokens", ids.size() + tokens.size());
        if (out == null) {
            JsonObject message = new JsonObject();
            message.addProperty("role", "assistant");
            message.addProperty("content", text.toString());
            JsonObject choice = new JsonObject();
            choice.addProperty("index", 0);
            choice.add("message", message);
            choice.addProperty("finish_reason", "stop");
            JsonObject o = chunk(id, created, "chat.completion", choice);
            o.add("usage", usage);
            Http.json(ex, 200, o);
        } else if (!clientGone) {
            JsonObject choice = new JsonObject();
            choice.addProperty("index", 0);
            choice.add("delta", new JsonObject());
            choice.addProperty("finish_reason", "stop");
            JsonObject last = chunk(id, created, "chat.completion.chunk", choice);
            last.add("usage", usage);
            try {
                sse(out, last);
                out.write("data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8));
                out.close();
            } catch (IOException e) {
                control.abandoned();
            }
        }
    }

    private boolean qwen3() {
        return profile.name().startsWith("Qwen3");
    }

    /**
     * A thinking switch as axllm reads it: {@code enable_thinking} (bool) first, else {@code thinking_mode}
     * (think / no_think / default), AXERA-TECH/ax-llm:src/main.cpp@00d7aaf {@code json_thinking_mode_value}.
     */
    static Boolean thinking(JsonObject o) {
        if (o.has("enable_thinking") && o.get("enable_thinking").isJsonPrimitive() && o.getAsJsonPrimitive("enable_thinking").isBoolean()) {
            return o.get("enable_thinking").getAsBoolean();
        }
        if (o.has("thinking_mode") && o.get("thinking_mode").isJsonPrimitive()) {
            String mode = o.get("thinking_mode").getAsString().toLowerCase(java.util.Locale.ROOT);
            if (List.of("think", "thinking", "enable_thinking").contains(mode)) {
                return true;
            }
            if (List.of("no_think", "nothink", "non_thinking", "disable_thinking").contains(mode)) {
                return false;
            }
        }
        return null;
    }

    /** Hangs or crashes as the fault says; returns for faults that do not strike mid-answer. */
    private void strike(Fault fault) {
        switch (fault.mode()) {
            case HANG -> hang();
            case CRASH -> crash();
            default -> {
            }
        }
    }

    /** Blocks this answer for good, as a wedged runtime does; only a restart ends it. */
    static void hang() {
        say("[E] emulated hang: no more tokens");
        while (!Thread.currentThread().isInterrupted()) {
            try {
                Thread.sleep(60_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    static void crash() {
        say("[E] emulated crash");
        Runtime.getRuntime().halt(134);
    }

    private int maxTokens(JsonObject req) {
        int limit = Integer.MAX_VALUE;
        for (String key : List.of("max_tokens", "max_completion_tokens")) {
            if (req.has(key) && !req.get(key).isJsonNull()) {
                limit = Math.min(limit, req.get(key).getAsInt());
            }
        }
        if (limit == Integer.MAX_VALUE && defaultMaxTokens > 0) {
            limit = defaultMaxTokens;
        }
        if (maxOutputTokens > 0) {
            limit = Math.min(limit, maxOutputTokens);
        }
        return Math.max(1, limit);
    }

    /** How many leading tokens of {@code ids} a KV slot already holds; the prompt then takes that slot. */
    private int reuse(List<Integer> ids) {
        int best = 0;
        List<Integer> bestSlot = null;
        for (List<Integer> slot : kvSlots) {
            int n = 0;
            while (n < slot.size() && n < ids.size() && slot.get(n).equals(ids.get(n))) {
                n++;
            }
            if (n > best) {
                best = n;
                bestSlot = slot;
            }
        }
        if (bestSlot != null) {
            kvSlots.remove(bestSlot);
        } else if (kvSlots.size() >= slots) {
            kvSlots.removeLast();
        }
        kvSlots.addFirst(new ArrayList<>(ids));
        return best;
    }

    /** Qwen's chat template, as the runtime renders it before tokenizing. */
    static String render(JsonArray messages) {
        StringBuilder sb = new StringBuilder();
        if (messages != null) {
            for (JsonElement e : messages) {
                JsonObject m = e.getAsJsonObject();
                sb.append("<|im_start|>").append(m.get("role").getAsString()).append('\n')
                        .append(content(m.get("content"))).append("<|im_end|>\n");
            }
        }
        return sb.append("<|im_start|>assistant\n").toString();
    }

    private static String content(JsonElement c) {
        if (c == null || c.isJsonNull()) {
            return "";
        }
        if (c.isJsonPrimitive()) {
            return c.getAsString();
        }
        StringBuilder sb = new StringBuilder();
        for (JsonElement part : c.getAsJsonArray()) {
            JsonObject p = part.getAsJsonObject();
            if (p.has("text")) {
                sb.append(p.get("text").getAsString());
            }
        }
        return sb.toString();
    }

    private JsonObject delta(String id, long created, String token) {
        JsonObject delta = new JsonObject();
        delta.addProperty("role", "assistant");
        delta.addProperty("content", token);
        JsonObject choice = new JsonObject();
        choice.addProperty("index", 0);
        choice.add("delta", delta);
        choice.add("finish_reason", com.google.gson.JsonNull.INSTANCE);
        return chunk(id, created, "chat.completion.chunk", choice);
    }

    private JsonObject chunk(String id, long created, String object, JsonObject choice) {
        JsonObject o = new JsonObject();
        o.addProperty("id", id);
        o.addProperty("object", object);
        o.addProperty("created", created);
        o.addProperty("model", modelName);
        JsonArray choices = new JsonArray();
        choices.add(choice);
        o.add("choices", choices);
        return o;
    }

    private static void sse(OutputStream out, JsonObject o) throws IOException {
        out.write(("data: " + o + "\n\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    static JsonObject error(String type, String message) {
        JsonObject e = new JsonObject();
        e.addProperty("message", message);
        e.addProperty("type", type);
        e.addProperty("code", type);
        JsonObject o = new JsonObject();
        o.add("error", e);
        return o;
    }

    private static int intOr(JsonObject o, String key, int fallback) {
        return o.has(key) && o.get(key).isJsonPrimitive() ? o.get(key).getAsInt() : fallback;
    }

    static void say(String line) {
        System.out.println(line);
        System.out.flush();
    }
}
