package dev.axfleet.emulator;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Stands in for the legacy {@code main_api_axcl_aarch64} (gregm123456/ax-llm:src/main_api.cpp@086f4e6;
 * ../shared/axera.md §1.2–1.4), with its quirks:
 * <ul>
 * <li>port 8000, no flag to change it (the emulator alone honours {@code AXFLEET_EMULATOR_PORT});</li>
 * <li>one stateful conversation; {@code /api/generate} and {@code /api/reset} queue work on one thread and
 *     return at once, and the running flag is set only when the work starts, so an immediate poll can
 *     answer an empty {@code done:true};</li>
 * <li>hyphenated sampling keys whose settings stick for later requests; a repetition penalty below
 *     1.0001 is skipped, so a penalty once set cannot be turned off;</li>
 * <li>no {@code max_tokens}: generation ends at EOS, {@code GET /api/stop} or a full context, which
 *     queues the literal {@code error: SetKVCache failed: %d,the context may be full,please reset};</li>
 * <li>tokens reach the poll route in pieces of three (the rest at the end), and a stop drops the up to two it holds
 *     (src/runner/LLM.hpp@086f4e6 {@code Run});</li>
 * <li>every error is HTTP 400 {@code {"error": ...}}.</li>
 * </ul>
 */
public final class MainApi {
    static final String CONTEXT_FULL = "error: SetKVCache failed: %d,the context may be full,please reset";
    /** Flags main_api.cpp declares; {@code devices} is required in AXCL builds. */
    static final List<String> FLAGS = List.of("system_prompt", "template_filename_axmodel", "filename_post_axmodel",
            "url_tokenizer_model", "filename_tokens_embed", "axmodel_num", "tokens_embed_num", "tokens_embed_size",
            "use_mmap_load_embed", "devices");

    private final ModelProfile profile;
    private final TimeScale time;
    private final Control control;
    private final String tokenizerUrl;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
    private final ExecutorService worker = Executors.newSingleThreadExecutor(r -> new Thread(r, "main_api-worker"));
    private final ConcurrentLinkedQueue<String> messages = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean running = new AtomicBoolean();
    private final AtomicBoolean stop = new AtomicBoolean();
    private volatile boolean initialised;
    private String uid;
    private int precomputeLen;
    private String lastReply = "";
    /** Sticky sampler state, as the runtime's post-processor keeps it. */
    private double temperature;
    private double topP;
    private int topK = 1;
    private double repetitionPenalty = 1.0;

    MainApi(ModelProfile profile, TimeScale time, Control control, String tokenizerUrl) {
        this.profile = profile;
        this.time = time;
        this.control = control;
        this.tokenizerUrl = tokenizerUrl;
    }

    static void main(List<String> args) throws Exception {
        Map<String, String> flags = Flags.parse(args);
        for (String name : flags.keySet()) {
            if (!FLAGS.contains(name)) {
                System.err.println("unknown option: " + name);
                System.exit(1);
            }
        }
        if (!flags.containsKey("devices")) {
            System.err.println("option needs value: --devices");
            System.exit(1);
        }
        ModelProfile profile = ModelProfile.forHiddenSize(Integer.parseInt(flags.getOrDefault("tokens_embed_size", "2048")));
        Control control = new Control(Fault.parse(System.getenv("AXFLEET_EMULATOR_FAULT")));
        MainApi api = new MainApi(profile, TimeScale.fromEnvironment(), control,
                flags.getOrDefault("url_tokenizer_model", "http://127.0.0.1:12345"));
        String port = System.getenv().getOrDefault("AXFLEET_EMULATOR_PORT", "8000");
        api.run(Integer.parseInt(port), flags.getOrDefault("system_prompt", ""));
    }

    void run(int port, String systemPrompt) throws IOException, InterruptedException {
        AxllmServe.say("EMULATOR: axfleet's stand-in for main_api_axcl_aarch64, not the AX650 card (time scale " + time.scale() + ")");
        JsonObject got = call("GET", "/get_uid", null);
        if (got == null || !got.has("uid")) {
            AxllmServe.say("[E] connect " + tokenizerUrl + " failed");
            System.exit(1);
        }
        uid = got.get("uid").getAsString();
        AxllmServe.say("[I] connect " + tokenizerUrl + " ok");
        AxllmServe.say("[I] uid: " + uid);
        Integer remain = CardLink.attach("main_api_axcl_aarch64", profile, control);
        CardLink.load("main_api_axcl_aarch64", profile, time);
        AxllmServe.say("[I] init post axmodel ok,remain_cmm(" + (remain != null ? remain : 7040 - profile.cmmMiB()) + " MB)");
        AxllmServe.say("[I] max_token_len : " + profile.contextTokens());
        resetSync(systemPrompt);
        initialised = true;
        AxllmServe.say("[I] LLM init ok");
        Map<String, HttpHandler> routes = new HashMap<>(control.routes());
        routes.put("/api/stop", Http.only("GET", this::stop));
        routes.put("/api/reset", Http.only("POST", this::reset));
        routes.put("/api/generate", Http.only("POST", this::generate));
        routes.put(System.getenv().getOrDefault("AXFLEET_EMULATOR_POLL_ROUTE", "/api/generate_provider"), Http.only("GET", this::poll));
        routes.put("/api/chat", Http.only("POST", this::chat));
        Http.server("127.0.0.1", port, routes).start();
        AxllmServe.say("Server running on port " + port + "...");
    }

    private boolean available(HttpExchange ex) throws IOException {
        if (!initialised) {
            Http.json(ex, 400, error("Model not init"));
            return false;
        }
        if (running.get()) {
            Http.json(ex, 400, error("llm is running"));
            return false;
        }
        return true;
    }

    private void generate(HttpExchange ex) throws IOException {
        control.request();
        JsonObject body = Http.jsonBody(Http.body(ex));
        if (body == null || !body.has("prompt")) {
            Http.json(ex, 400, error("Invalid request format"));
            return;
        }
        if (!available(ex)) {
            return;
        }
        configure(body);
        String prompt = body.get("prompt").getAsString();
        Fault fault = control.take();
        worker.execute(() -> runSync(prompt, fault));
        Http.json(ex, 200, ok());
    }

    private void chat(HttpExchange ex) throws IOException {
        control.request();
        JsonObject body = Http.jsonBody(Http.body(ex));
        if (body == null || !body.has("messages")) {
            Http.json(ex, 400, error("Invalid request format"));
            return;
        }
        if (!available(ex)) {
            return;
        }
        configure(body);
        // Only the first message with role and content is used (main_api.cpp handle_chat returns after it).
        for (JsonElement e : body.getAsJsonArray("messages")) {
            JsonObject m = e.getAsJsonObject();
            if (m.has("role") && m.has("content")) {
                String content = m.get("content").getAsString();
                Fault fault = control.take();
                String output;
                try {
                    output = worker.submit(() -> runSync(content, fault)).get();
                } catch (Exception err) {
                    output = "";
                }
                JsonObject o = new JsonObject();
                o.addProperty("message", output);
                o.addProperty("done", true);
                Http.json(ex, 200, o);
                return;
            }
        }
        Http.json(ex, 400, error("Invalid message format"));
    }

    private void poll(HttpExchange ex) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (String s; (s = messages.poll()) != null; ) {
            sb.append(s);
        }
        JsonObject o = new JsonObject();
        o.addProperty("response", sb.toString());
        o.addProperty("done", !running.get());
        Http.json(ex, 200, o);
    }

    private void stop(HttpExchange ex) throws IOException {
        stop.set(true);
        Http.json(ex, 200, ok());
    }

    private void reset(HttpExchange ex) throws IOException {
        JsonObject body = Http.jsonBody(Http.body(ex));
        if (body == null) {
            Http.json(ex, 400, error("Invalid request format"));
            return;
        }
        String system = body.has("system_prompt") ? body.get("system_prompt").getAsString() : "";
        if (!available(ex)) {
            return;
        }
        worker.execute(() -> resetSync(system));
        Http.json(ex, 200, ok());
    }

    /** set_llm_config: only the keys present change the sampler, and they stay changed. */
    private synchronized void configure(JsonObject body) {
        if (body.has("temperature")) {
            temperature = Math.max(0, body.get("temperature").getAsDouble());
        }
        if (body.has("repetition_penalty")) {
            double p = body.get("repetition_penalty").getAsDouble();
            if (p - 1 >= 0.0001) {
                repetitionPenalty = p;
            }
        }
        if (body.has("top-p")) {
            double p = body.get("top-p").getAsDouble();
            topP = p > 0 && p < 1 ? p : 0;
        }
        if (body.has("top-k")) {
            topK = Math.max(0, body.get("top-k").getAsInt());
        }
    }

    private synchronized String sampler() {
        return "t=" + temperature + " p=" + topP + " k=" + topK + " rp=" + repetitionPenalty;
    }

    private void resetSync(String systemPrompt) {
        if (!running.compareAndSet(false, true)) {
            return;
        }
        JsonObject body = new JsonObject();
        body.addProperty("uid", uid);
        body.addProperty("system_prompt", systemPrompt);
        JsonObject got = call("POST", "/reset", body);
        int tokens = got != null && got.has("token_ids") ? got.getAsJsonArray("token_ids").size() : 0;
        time.npu(profile.prefillMs(tokens));
        precomputeLen = tokens;
        lastReply = "";
        running.set(false);
    }

    private String runSync(String prompt, Fault fault) {
        if (!running.compareAndSet(false, true)) {
            return "";
        }
        stop.set(false);
        JsonObject body = new JsonObject();
        body.addProperty("uid", uid);
        body.addProperty("text", prompt);
        body.addProperty("last_reply", lastReply);
        JsonObject got = call("POST", "/encode", body);
        if (got == null || !got.has("diff")) {
            AxllmServe.say("[E] tokenizer encode failed: " + got);
            running.set(false);
            return "";
        }
        JsonArray diff = got.getAsJsonArray("diff");
        if (fault.mode() == Fault.Mode.CONTEXT_FULL || fault.mode() == Fault.Mode.WEDGE
                || precomputeLen + diff.size() >= profile.contextTokens()) {
            messages.add(CONTEXT_FULL);
            // Source at 086f4e6 clears the flag here; the field report of a stuck flag is the WEDGE fault.
            running.set(fault.mode() == Fault.Mode.WEDGE);
            return CONTEXT_FULL;
        }
        control.executed(prompt);
        time.npu(profile.prefillMs(diff.size()));
        List<String> tokens = TextGenerator.tokens(profile.name(), prompt + "\u0000" + sampler(), 0, temperature);
        StringBuilder reply = new StringBuilder();
        // LLM::Run (gregm123456/ax-llm src/runner/LLM.hpp@086f4e6) hands tokens to the callback three at a time
        // (cached_token.size() >= 3), the rest at EOS; a stop (b_stop, checked before each decode step) breaks the loop
        // and the up to two tokens it holds are never handed over, though they are in the reply it returns.
        control.answerStarts();
        List<String> cached = new ArrayList<>();
        boolean stopped = false;
        for (int i = 0; i < tokens.size(); i++) {
            if (i > 0 && stop.get()) {
                stopped = true;
                break;
            }
            if (i == fault.afterTokens()) {
                if (fault.mode() == Fault.Mode.HANG) {
                    AxllmServe.hang();
                } else if (fault.mode() == Fault.Mode.CRASH) {
                    AxllmServe.crash();
                }
            }
            if (i > 0) {
                time.npu(profile.decodeMsPerToken());
            }
            reply.append(tokens.get(i));
            precomputeLen++;
            cached.add(tokens.get(i));
            if (cached.size() >= 3) {
                handOver(cached);
            }
        }
        if (stopped) {
            control.dropped(cached.size());
        } else if (!cached.isEmpty()) {
            handOver(cached);
        }
        precomputeLen += diff.size();
        lastReply = reply.toString();
        running.set(false);
        return lastReply;
    }

    /** The runtime callback: the cached tokens as one piece of text onto the queue the poll route drains. */
    private void handOver(List<String> cached) {
        messages.add(String.join("", cached));
        control.piece(cached.size());
        cached.clear();
    }

    private JsonObject call(String method, String path, JsonObject body) {
        try {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(tokenizerUrl + path)).timeout(Duration.ofSeconds(1));
            b = body == null ? b.GET() : b.POST(HttpRequest.BodyPublishers.ofString(body.toString()));
            HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
            return Http.jsonBody(r.body());
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    private static JsonObject error(String message) {
        JsonObject o = new JsonObject();
        o.addProperty("error", message);
        return o;
    }

    private static JsonObject ok() {
        JsonObject o = new JsonObject();
        o.addProperty("status", "ok");
        return o;
    }
}
