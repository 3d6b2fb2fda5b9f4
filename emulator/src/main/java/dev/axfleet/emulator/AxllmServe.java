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
 * Stands in for {@code axllm serve <model_dir> [--port N]} as AXERA-TECH/ax-llm {@code src/main.cpp@00d7aaf} runs it: it
 * reads {@code <model_dir>/config.json} (its {@code ModelConfig::load_from_json}: the required keys, {@code port},
 * {@code server_timeout_ms}, {@code server_default_max_tokens}, {@code server_max_output_tokens}, {@code system_prompt},
 * {@code devices}, the thinking switch), and parses only {@code --port} from its command line (other arguments are
 * ignored, as there). Its HTTP layer follows ZHEQIUSHUI/openai-api.cpp@127f3e7 {@code src/server.cpp} and
 * {@code include/openai_api/encoder/encoder.hpp}:
 * <ul>
 * <li>{@code /health}, {@code /v1/models}, {@code /v1/chat/completions} (also without {@code /v1}); 400 for bad JSON and
 *     unknown models;</li>
 * <li>SSE chunks whose deltas carry role and content; after the last token a chunk with an empty delta and
 *     {@code finish_reason} "stop" and no usage ({@code create_sse_finish}), sent only when some text was streamed; then
 *     {@code data: [DONE]};</li>
 * <li>a model error (a prompt longer than the context included) inside the 200 stream as
 *     {@code data: {"error":{"message","type":"model_error"}}} ({@code registerChat}'s stream branch), or, without
 *     streaming, HTTP 400 with the JSON encoder's rendering of that chunk (server.cpp:408-412);</li>
 * <li>the stream's deadline {@code server_timeout_ms} counted from its start (server.cpp:355-364): when it passes,
 *     {@code data: [DONE]} and the connection closes, with no finish chunk, while the card finishes the answer; a
 *     non-streamed answer that takes longer gets 504 "Request timeout";</li>
 * <li>non-streamed answers carry usage 0, 0, 0 ({@code ChatCompletionsJSONEncoder});</li>
 * <li>the model folder's {@code system_prompt} before the messages when the first is not a system message
 *     ({@code prepend_config_system_prompt_if_missing});</li>
 * <li>per request only {@code temperature}, {@code top_p}, {@code max_tokens} and the thinking switch are read;
 *     {@code seed} and the penalties are not ({@code SetRequestSamplingOverride});</li>
 * <li>SIGINT stops the server, lets a running answer finish, then exits; SIGTERM has no handler in this revision and ends
 *     the process at once (ax-llm PR #66 later routes it through the SIGINT handler:
 *     {@code AXFLEET_EMULATOR_AXLLM_SIGTERM=graceful} emulates such a build).</li>
 * </ul>
 * What no source shows and the emulator still has to do one way is listed in docs/hardware.md as an assumption: one
 * answer at a time (the card serialised; the fork's slot handling is not public), a generation that goes on after its
 * client leaves, one token per chunk, deterministic sampling. {@code server_timeout_ms} is wall-clock time, not scaled.
 *
 * <p>It says it is an emulator in its log, in {@code /health}, in {@code /v1/models} and in every answer.
 */
public final class AxllmServe {
    /** Keys axllm requires in config.json (docs/configuration.md). */
    static final List<String> REQUIRED_KEYS = List.of("model_name", "tokenizer_type", "url_tokenizer_model",
            "template_filename_axmodel", "axmodel_num", "filename_post_axmodel", "filename_tokens_embed",
            "tokens_embed_num", "tokens_embed_size");

    /** The emulated host's cards (card index 0 only). */
    static final int CARDS = 1;
    /** openai-api.cpp include/openai_api/server.hpp:64 {@code wait_timeout{5000}}: how long a request waits for a slot. */
    static final long SLOT_WAIT_MS = 5000;
    /** openai-api.cpp include/openai_api/types.hpp:19, {@code ChatRequest::max_tokens} when a request has none. */
    static final int DEFAULT_MAX_TOKENS = 2048;

    /**
     * Not upstream's behaviour: {@code AXFLEET_EMULATOR_AXLLM_STREAM_USAGE=zeros} puts the non-stream encoder's all-zero
     * usage in the finish chunk, as the fork axllm vendors might (it is not public; docs/hardware.md lists the check).
     */
    static final boolean ZERO_STREAM_USAGE = "zeros".equals(System.getenv("AXFLEET_EMULATOR_AXLLM_STREAM_USAGE"));

    private final String modelName;
    private final String tokenizerType;
    private final String systemPrompt;
    private final ModelProfile profile;
    /** The vision encoder, when config.json names a {@code vlm_type}; else null. */
    private final VisionProfile vision;
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
    /** An answer is being generated (the card is executing). */
    private volatile boolean generating;
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
        this.tokenizerType = config.has("tokenizer_type") ? config.get("tokenizer_type").getAsString() : "";
        this.vision = config.has("vlm_type") || config.has("VLM_TYPE") ? VisionProfile.forName(modelName).orElse(new VisionProfile(modelName,
                String.valueOf(config.get(config.has("vlm_type") ? "vlm_type" : "VLM_TYPE")), "", intOr(config, "vision_width", 448),
                intOr(config, "vision_height", 448), intOr(config, "vision_patch_size", 14), 256, 191.6)) : null;
        this.systemPrompt = config.has("system_prompt") && config.get("system_prompt").isJsonPrimitive()
                ? config.get("system_prompt").getAsString() : "";
    }

    /** {@code serve <model_dir> [--port N]}; main.cpp@00d7aaf ignores any other argument. */
    static void main(List<String> args) throws Exception {
        if (args.size() == 1 && args.get(0).equals("version")) {
            // Not the real build's words (docs/hardware.md U5 asks a person to record them): the emulator says what it is.
            say("axllm (axfleet emulator, not the card's axllm) emulating ax-llm src/main.cpp@00d7aaf");
            return;
        }
        if (args.size() < 2 || !args.get(0).equals("serve")) {
            System.err.println("usage: axllm serve <model_dir> [--port N]   (axfleet emulator)");
            System.exit(2);
        }
        Path dir = Path.of(args.get(1));
        Integer portFlag = null;
        for (int i = 2; i < args.size(); i++) {
            if (args.get(i).equals("--port") && i + 1 < args.size()) {
                portFlag = Integer.parseInt(args.get(++i));
            }
        }
        Path configFile = dir.resolve("config.json");
        if (!Files.isRegularFile(configFile)) {
            System.err.println("[E] Config file not found: " + configFile);
            System.exit(1);
        }
        JsonObject config = Http.jsonBody(Files.readString(configFile));
        if (config == null) {
            System.err.println("[E] Failed to parse config file: " + configFile);
            System.exit(1);
        }
        if (config.has("image_variants") && config.get("image_variants").isJsonArray()) {
            int port = portFlag != null ? portFlag : intOr(config, "port", 8000);
            new AxllmImageServe(config.getAsJsonArray("image_variants"), TimeScale.fromEnvironment()).run(port);
            return;
        }
        for (String key : REQUIRED_KEYS) {
            if (!config.has(key)) {
                System.err.println("[E] Key not found: " + key);
                System.exit(1);
            }
        }
        int port = portFlag != null ? portFlag : intOr(config, "port", 8000);
        long timeoutMs = intOr(config, "server_timeout_ms", 300_000);
        if (timeoutMs <= 0) {
            say("[W] invalid server_timeout_ms=" + timeoutMs + ", fallback to default 300000ms");
            timeoutMs = 300_000;
        }
        for (int device : devices(config, TestFault.IGNORES_AXLLM_DEVICES.on() ? null : System.getenv("AXLLM_DEVICES"))) {
            say("[I] AXCLWorker start with devid " + device);
            if (device < 0 || device >= CARDS) {
                // src/runner/utils/axcl_manager.hpp (AXCLWorker::run): the id is an index into axclrtGetDeviceList's list.
                say("[E] Invalid AXCL device id " + device + ", find total " + CARDS + " device.");
                say("[E] LLM.Init failed");
                System.exit(255);
            }
        }
        TimeScale time = TimeScale.fromEnvironment();
        Control control = new Control(Fault.parse(System.getenv("AXFLEET_EMULATOR_FAULT")));
        if (AxllmEmbedServe.embedding(config)) {
            new AxllmEmbedServe(config, time, control, timeoutMs).run(port);
            return;
        }
        AxllmServe serve = new AxllmServe(config, time, control, timeoutMs);
        serve.run(port);
    }

    /**
     * The cards an {@code axllm serve} process uses: config.json's {@code devices} (default {@code [0]}, main.cpp@00d7aaf
     * {@code load_from_json}), overridden by {@code AXLLM_DEVICES=0,1} when it holds at least one id (docs/configuration.md
     * @0ac1df2, "AXCL（PCIe 多卡）"). Each is an index into the device list, not a device id (axcl_manager.hpp).
     */
    static List<Integer> devices(JsonObject config, String env) {
        if (env != null) {
            List<Integer> parsed = new ArrayList<>();
            for (String part : env.split(",")) {
                try {
                    parsed.add(Integer.parseInt(part.trim()));
                } catch (NumberFormatException e) {
                    // Not an id; the documented fallback is config.json's list.
                }
            }
            if (!parsed.isEmpty()) {
                return parsed;
            }
        }
        List<Integer> out = new ArrayList<>();
        if (config.has("devices") && config.get("devices").isJsonArray()) {
            config.getAsJsonArray("devices").forEach(e -> out.add(e.getAsInt()));
            return out;
        }
        return List.of(0);
    }

    void run(int port) throws IOException {
        say("EMULATOR: axfleet's stand-in for axllm serve, not the AX650 card (time scale " + time.scale() + ")");
        say("[I] model_name: " + modelName + ", loading " + profile.name() + " profile");
        Integer remain = CardLink.attach("axllm", profile, control);
        if (!CardLink.load("axllm", profile, time)) {
            return;
        }
        say("[I] init post axmodel ok,remain_cmm(" + (remain != null ? remain : 7040 - profile.cmmMiB()) + " MB)");
        if (!TestFault.NO_MAX_TOKEN_LEN.on()) {
            say("[I] max_token_len : " + profile.contextTokens());
        }
        say("[I] LLM init ok");
        Map<String, HttpHandler> routes = new HashMap<>(control.routes());
        routes.put("/health", Http.only("GET", this::health));
        routes.put("/v1/models", Http.only("GET", this::models));
        routes.put("/models", Http.only("GET", this::models));
        routes.put("/v1/chat/completions", Http.only("POST", this::chat));
        routes.put("/chat/completions", Http.only("POST", this::chat));
        HttpServer server = Http.server("127.0.0.1", port, routes);
        server.start();
        Sig.handle("INT", () -> {
            if (TestFault.SIGINT_IGNORED.on() && !generating) {
                say("[I] SIGINT received (emulated test fault SIGINT_IGNORED: the process goes on)");
            } else {
                stop(server, "SIGINT");
            }
        });
        boolean graceful = "graceful".equals(System.getenv("AXFLEET_EMULATOR_AXLLM_SIGTERM"));
        Sig.handle("TERM", () -> {
            if (graceful) {
                stop(server, "SIGTERM (handled as SIGINT, as after ax-llm PR #66)");
            } else {
                say("[E] emulated: SIGTERM has no handler in main.cpp@00d7aaf; the process ends now"
                        + (generating ? ", in the middle of an answer (the card's execution is cut)" : ""));
                Runtime.getRuntime().halt(143);
            }
        });
        say("Starting server on port " + port + " with model '" + modelName + "'...");
        say("Max concurrency: 1");
        say("Models: " + modelName);
    }

    /** The SIGINT path: the server stops; an answer being generated runs to its end first; then Deinit and exit. */
    private void stop(HttpServer server, String signal) {
        say("[I] " + signal + " received, stopping server");
        if (generating) {
            say("[W] emulated: " + signal + " arrived during an answer; it runs to its end before Deinit (main.cpp@00d7aaf runs the "
                    + "model on a detached thread, so whether Deinit waits for it on the card is unverified)");
        }
        server.stop(0);
        card.lock();
        say("[I] LLM deinit, axclFinalize");
        System.exit(0);
    }
    private void health(HttpExchange ex) throws IOException {
        JsonObject o = new JsonObject();
        o.addProperty("status", TestFault.HEALTH_NOT_HEALTHY.on() ? "ok" : "healthy");
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
        JsonElement rawMessages = req.get("messages");
        ApiMessages.Parsed parsed = ApiMessages.parse(rawMessages != null && rawMessages.isJsonArray() ? rawMessages.getAsJsonArray() : null);
        boolean stream = req.has("stream") && req.get("stream").getAsBoolean();
        if (parsed.error() != null) {
            // handle_api_messages failed: push_chat_error("invalid_request_error", "Failed to parse chat messages.").
            say("[E] " + parsed.error());
            say("[E] handle_body failed");
            chatError(ex, stream, "invalid_request_error", ApiMessages.FAILED);
            return;
        }
        if (!parsed.images().isEmpty() && vision == null) {
            // A text model given media: what LLM::Run then does is not in the revision read (docs/hardware.md A17).
            chatError(ex, stream, "model_error", "emulated: " + modelName + " has no vision encoder (no vlm_type in its config.json)");
            return;
        }
        List<ApiMessages.Seen> images = TestFault.VLM_IGNORES_IMAGES.on() ? List.of() : parsed.images();
        String prompt = render(withConfigSystemPrompt(parsed.messages()));
        if (qwen3() && !think) {
            // The no-think switch as the Qwen3 template does it: an empty thinking block after the generation prompt.
            prompt += "<think>\n\n</think>\n\n";
        }
        List<Integer> ids = new ArrayList<>(Tokens.ids(prompt));
        for (int i = 0; i < images.size() * (vision == null ? 0 : vision.imageTokens()); i++) {
            ids.add(-1); // the image's embeddings take prompt positions of their own
        }
        try {
            // The card runs one answer at a time (an assumption: the fork's slot handling is not public).
            if (!card.tryLock(SLOT_WAIT_MS, TimeUnit.MILLISECONDS)) {
                Http.json(ex, 503, error("rate_limit_exceeded", "Rate limit exceeded"));
                return;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        try {
            generating = true;
            if (fault.mode() == Fault.Mode.CONTEXT_FULL || ids.size() >= profile.contextTokens()) {
                // LLM::Run fails; the handler pushes OutputChunk::Error("model_error", llm.GetLastError()). The real text is
                // not recorded yet (docs/hardware.md U3); this one is the emulator's.
                modelError(ex, stream, "prompt is " + ids.size() + " tokens; the context holds " + profile.contextTokens()
                        + " (max_token_len)");
                return;
            }
            if (vision != null) {
                time.npu(vision.encodeMs() * images.size());
            }
            JsonObject call = EmulatedTools.call(req, tokenizerType, rawMessages != null && rawMessages.isJsonArray() ? rawMessages.getAsJsonArray() : null);
            generate(ex, req, prompt, ids, fault, think, stream, images, call);
        } finally {
            generating = false;
            card.unlock();
        }
    }

    /** The model folder's {@code system_prompt} first when the first message is not a system one (main.cpp@00d7aaf). */
    JsonArray withConfigSystemPrompt(JsonArray messages) {
        if (systemPrompt.isEmpty()) {
            return messages;
        }
        if (messages != null && !messages.isEmpty() && messages.get(0).isJsonObject() && messages.get(0).getAsJsonObject().has("role")
                && "system".equals(messages.get(0).getAsJsonObject().get("role").getAsString())) {
            return messages;
        }
        JsonArray out = new JsonArray();
        JsonObject system = new JsonObject();
        system.addProperty("role", "system");
        system.addProperty("content", systemPrompt);
        out.add(system);
        if (messages != null) {
            out.addAll(messages);
        }
        return out;
    }

    /** A model error: an SSE error chunk inside the 200 stream, or 400 with the JSON encoder's chat.completion. */
    private void modelError(HttpExchange ex, boolean stream, String message) throws IOException {
        say("[W] Returning user-facing chat error: " + message);
        if (TestFault.CONTEXT_ERROR_AS_400.on()) {
            Http.json(ex, 400, error("invalid_request_error", message));
            return;
        }
        chatError(ex, stream, "model_error", message);
    }

    /** {@code push_chat_error(code, message)}: an SSE error chunk inside the 200 stream, or 400 with the JSON encoder's chat.completion. */
    private void chatError(HttpExchange ex, boolean stream, String type, String message) throws IOException {
        if (stream) {
            ex.getResponseHeaders().set("Content-Type", "text/event-stream");
            ex.getResponseHeaders().set("Cache-Control", "no-cache");
            ex.sendResponseHeaders(200, 0);
            try (OutputStream out = ex.getResponseBody()) {
                JsonObject e = new JsonObject();
                e.addProperty("message", message);
                e.addProperty("type", type);
                JsonObject o = new JsonObject();
                o.add("error", e);
                sse(out, o);
                out.write("data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8));
            } catch (IOException gone) {
                control.abandoned();
            }
            return;
        }
        // server.cpp:408-412 encodes the error chunk with ChatCompletionsJSONEncoder: its text is empty, the message lost.
        Http.json(ex, 400, completion("chatcmpl-" + UUID.randomUUID().toString().replace("-", "").substring(0, 24),
                System.currentTimeMillis() / 1000, ""));
    }
    private void generate(HttpExchange ex, JsonObject req, String prompt, List<Integer> ids, Fault fault, boolean think, boolean stream,
                          List<ApiMessages.Seen> images, JsonObject call) throws IOException {
        control.executed(prompt);
        // Only temperature and top_p reach the sampler (SetRequestSamplingOverride); seed is never read.
        double temperature = req.has("temperature") && !req.get("temperature").isJsonNull() ? req.get("temperature").getAsDouble() : 0;
        List<String> tokens = new ArrayList<>(TextGenerator.tokens(modelName, prompt + images, 0, temperature));
        if (!images.isEmpty()) {
            // What the emulated encoder can truthfully say: the images' sizes and mean colours, after the "(emulated ...)" label.
            tokens.addAll(2, TextGenerator.sightings(images));
        }
        if (call != null && fault.mode() == Fault.Mode.BAD_JSON) {
            call.getAsJsonObject("function").addProperty("arguments", "{}");
        }
        if (call != null && (fault.mode() == Fault.Mode.TOOL_TEXT || fault.mode() == Fault.Mode.TOOL_BROKEN
                || TestFault.TOOL_CALLS_IN_TEXT.on())) {
            // The model's own block, left in the text (what the runtime would have parsed).
            JsonObject fn = call.getAsJsonObject("function");
            String body = "{\"name\": " + fn.get("name") + ", \"arguments\": " + fn.get("arguments").getAsString() + "}";
            String block = "<tool_call>\n" + (fault.mode() == Fault.Mode.TOOL_BROKEN ? body.substring(0, body.length() / 2) : body) + "\n</tool_call>";
            tokens = pieces(block);
            call = null;
        } else if (call != null) {
            // Buffered inside the runtime (docs/tool_calling.md "Streaming"): the call's tokens are decoded, then sent whole.
            tokens = pieces(call.getAsJsonObject("function").get("arguments").getAsString() + call.getAsJsonObject("function").get("name"));
        } else if (EmulatedJson.asked(prompt)) {
            tokens = pieces(EmulatedJson.answer(modelName, prompt, fault.mode() == Fault.Mode.BAD_JSON));
        } else if (prompt.lastIndexOf("<|im_start|>user\n") >= 0
                && prompt.indexOf("<tool_response>", prompt.lastIndexOf("<|im_start|>user\n")) >= 0) {
            // After a tool's answer, the emulated model quotes it (an emulated model: docs/hardware.md A18).
            String response = prompt.substring(prompt.lastIndexOf("<tool_response>") + "<tool_response>".length());
            response = response.substring(0, Math.max(0, response.indexOf("</tool_response>"))).trim();
            tokens.addAll(2, pieces(" The tool answered: " + response + "."));
        }
        if (think) {
            // Qwen3 writes its own tags when it thinks, so the server adds none.
            List<String> thought = new ArrayList<>(List.of("<think>", "\n"));
            thought.addAll(TextGenerator.thinking(prompt, 0));
            thought.addAll(List.of("\n", "</think>", "\n\n"));
            thought.addAll(tokens);
            tokens = thought;
        }
        int limit = maxTokens(req);
        if (tokens.size() > limit) {
            tokens = tokens.subList(0, limit);
        }
        String id = "chatcmpl-" + UUID.randomUUID().toString().replace("-", "").substring(0, 24);
        long created = System.currentTimeMillis() / 1000;
        // Wall-clock milliseconds, as the runtime reads them; the emulated answer's own pace is scaled.
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        OutputStream out = null;
        if (stream) {
            // The stream starts before any chunk exists (server.cpp:348); its deadline counts from here.
            ex.getResponseHeaders().set("Content-Type", "text/event-stream");
            ex.getResponseHeaders().set("Cache-Control", "no-cache");
            ex.sendResponseHeaders(200, 0);
            out = ex.getResponseBody();
        }
        time.npu(profile.prefillMs(ids.size() - (prefixCache ? reuse(ids) : 0)));
        StringBuilder text = new StringBuilder();
        boolean open = out != null;
        boolean cut = false;
        for (int i = 0; i < tokens.size(); i++) {
            if (i == fault.afterTokens()) {
                strike(fault);
            }
            if (i > 0) {
                time.npu(profile.decodeMsPerToken());
            }
            text.append(tokens.get(i));
            // main.cpp's stream callback prints each piece to stdout as it pushes it.
            System.out.print(tokens.get(i));
            System.out.flush();
            if (open && System.nanoTime() > deadline) {
                open = cutAtDeadline(out, id, created);
                cut = true;
            }
            if (open && call == null) {
                try {
                    sse(out, delta(id, created, tokens.get(i)));
                } catch (IOException e) {
                    // The card keeps generating after the client goes (an assumption: not verified on hardware).
                    open = false;
                    control.abandoned();
                    if (TestFault.STOPS_WHEN_CLIENT_LEAVES.on()) {
                        say("[W] emulated test fault STOPS_WHEN_CLIENT_LEAVES: the client left; generation stops");
                        break;
                    }
                }
            }
        }
        System.out.println();
        if (fault.afterTokens() >= tokens.size()) {
            strike(fault);
        }
        generating = false; // the card's work is done; what is left is writing the last chunks
        if (out == null) {
            if (System.nanoTime() > deadline) {
                Http.json(ex, 504, error("server_error", "Request timeout"));
            } else {
                JsonObject done = completion(id, created, text.toString());
                if (call != null) {
                    JsonObject choice = done.getAsJsonArray("choices").get(0).getAsJsonObject();
                    JsonObject message = choice.getAsJsonObject("message");
                    message.add("content", com.google.gson.JsonNull.INSTANCE);
                    JsonArray calls = new JsonArray();
                    calls.add(call);
                    message.add("tool_calls", calls);
                    choice.addProperty("finish_reason", "tool_calls");
                }
                Http.json(ex, 200, done);
            }
        } else if (open && call != null) {
            try {
                JsonObject c = call.deepCopy();
                c.addProperty("index", 0);
                JsonArray calls = new JsonArray();
                calls.add(c);
                JsonObject delta = new JsonObject();
                delta.addProperty("role", "assistant");
                delta.add("tool_calls", calls);
                JsonObject choice = new JsonObject();
                choice.addProperty("index", 0);
                choice.add("delta", delta);
                choice.add("finish_reason", com.google.gson.JsonNull.INSTANCE);
                sse(out, chunk(id, created, "chat.completion.chunk", choice));
                JsonObject finish = new JsonObject();
                finish.addProperty("index", 0);
                finish.add("delta", new JsonObject());
                finish.addProperty("finish_reason", "tool_calls");
                sse(out, chunk(id, created, "chat.completion.chunk", finish));
                out.write("data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8));
                out.close();
            } catch (IOException e) {
                control.abandoned();
            }
        } else if (open) {
            try {
                if (!tokens.isEmpty()) {
                    JsonObject last = finish(id, created);
                    if (ZERO_STREAM_USAGE) {
                        last.add("usage", completion(id, created, "").get("usage"));
                    }
                    sse(out, last);
                }
                out.write("data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8));
                out.close();
            } catch (IOException e) {
                control.abandoned();
            }
        } else if (cut) {
            say("[W] emulated: the answer ran past server_timeout_ms=" + timeoutMs + "; its stream was closed with [DONE] and no finish chunk");
        }
    }

    /** Text as the emulated model's tokens: about four characters each, as Qwen's tokenizer cuts English. */
    static List<String> pieces(String text) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < text.length(); i += 4) {
            out.add(text.substring(i, Math.min(text.length(), i + 4)));
        }
        return out;
    }

    /** server.cpp:357-364: the stream outlived server_timeout_ms: {@code data: [DONE]}, and the connection closes. */
    private boolean cutAtDeadline(OutputStream out, String id, long created) {
        try {
            if (TestFault.DEADLINE_SENDS_FINISH.on()) {
                sse(out, finish(id, created));
            }
            out.write("data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8));
            out.close();
        } catch (IOException e) {
            control.abandoned();
        }
        return false;
    }

    /** encoder.hpp {@code create_sse_finish}: an empty delta and finish_reason "stop", no usage. */
    private JsonObject finish(String id, long created) {
        JsonObject choice = new JsonObject();
        choice.addProperty("index", 0);
        choice.add("delta", new JsonObject());
        choice.addProperty("finish_reason", "stop");
        return chunk(id, created, "chat.completion.chunk", choice);
    }

    /** A non-streamed answer as ChatCompletionsJSONEncoder writes it: finish_reason "stop", usage all 0. */
    private JsonObject completion(String id, long created, String text) {
        JsonObject message = new JsonObject();
        message.addProperty("role", "assistant");
        message.addProperty("content", text);
        JsonObject choice = new JsonObject();
        choice.addProperty("index", 0);
        choice.add("message", message);
        choice.addProperty("finish_reason", "stop");
        JsonObject o = chunk(id, created, "chat.completion", choice);
        JsonObject usage = new JsonObject();
        usage.addProperty("prompt_tokens", 0);
        usage.addProperty("completion_tokens", 0);
        usage.addProperty("total_tokens", 0);
        o.add("usage", usage);
        return o;
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

    /** main.cpp@00d7aaf {@code resolve_chat_output_max_tokens}, with openai-api.cpp's default of 2048. */
    private int maxTokens(JsonObject req) {
        boolean asked = req.has("max_tokens") && !req.get("max_tokens").isJsonNull();
        int serverDefault = defaultMaxTokens > 0 ? defaultMaxTokens : maxOutputTokens;
        int limit = asked ? req.get("max_tokens").getAsInt() : DEFAULT_MAX_TOKENS;
        if (!asked && serverDefault > 0) {
            limit = serverDefault;
        }
        if (limit <= 0) {
            limit = serverDefault > 0 ? serverDefault : Math.max(1, profile.contextTokens());
        }
        if (maxOutputTokens > 0 && limit > maxOutputTokens) {
            limit = maxOutputTokens;
        }
        return limit;
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
