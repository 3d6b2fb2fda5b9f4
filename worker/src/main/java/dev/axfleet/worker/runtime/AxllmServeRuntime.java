package dev.axfleet.worker.runtime;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.axfleet.broker.Capability;
import dev.axfleet.broker.chat.ChatMessage;
import dev.axfleet.broker.chat.ChatParams;
import dev.axfleet.broker.chat.FinishReason;
import dev.axfleet.broker.JsonFields;
import dev.axfleet.broker.chat.Part;
import dev.axfleet.broker.chat.Tool;
import dev.axfleet.broker.chat.ToolCall;
import dev.axfleet.worker.chat.VisionInput;
import dev.axfleet.broker.Usage;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code axllm serve <model_dir> --port N}, the manufacturer's OpenAI-compatible runtime (AXERA-TECH/ax-llm
 * {@code src/main.cpp@00d7aaf}; HTTP layer ZHEQIUSHUI/openai-api.cpp@127f3e7; ../shared/axera.md §1.6). Ready when
 * {@code GET /health} answers 200; asked with {@code POST /v1/chat/completions} and always streamed, so a stalled card is
 * seen between tokens, not only at the end. What the runtime does and this adapter relies on, with file and line, is in
 * docs/hardware.md (F1-F5, F31-F35).
 *
 * <ul>
 * <li>Started on an overlay of the model folder ({@link Overlay}): links to its files and a config.json of ours with
 *     {@code server_timeout_ms} (the only place this revision reads it) and {@code devices} (the worker's card index);
 *     the downloaded folder is never edited.</li>
 * <li>An answer is finished only by a chunk with a {@code finish_reason}: the server also writes {@code [DONE]} when
 *     the stream outlives {@code server_timeout_ms} (server.cpp:355-364), and that answer is cut short, said so.</li>
 * <li>A model error arrives inside the 200 stream (context overflow included), as an SSE {@code error} chunk.</li>
 * <li>Usage is taken only when the runtime sends counts that are not all zero; the stream's final chunk has none
 *     (encoder.hpp {@code create_sse_finish}), so counts are usually the worker's estimate, marked so.</li>
 * <li>Per request this revision reads {@code temperature}, {@code top_p}, {@code max_tokens} and the thinking switch
 *     only ({@code SetRequestSamplingOverride}); {@code seed} is never sent, penalties are sent for later revisions that
 *     read them, and the job's result says they may be ignored. top-k and the repetition penalty live only in the
 *     model's post_config.json.</li>
 * <li>No system prompt is added: a job without one gets the model folder's {@code system_prompt}, which the runtime
 *     prepends when the first message is not a system one ({@code prepend_config_system_prompt_if_missing}).</li>
 * <li>Stopped only when idle: SIGINT does not end a running generation in this revision, and SIGTERM is unhandled
 *     before ax-llm PR #66, so an answer the runtime may still be generating is waited for first, at most one full
 *     answer long.</li>
 * </ul>
 */
public final class AxllmServeRuntime implements ChatRuntime {
    private static final Logger log = LoggerFactory.getLogger(AxllmServeRuntime.class);
    private static final ScheduledExecutorService WATCHDOG = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "runtime-watchdog");
        t.setDaemon(true);
        return t;
    });

    /**
     * @param firstTokenTimeout how long the first token may take (prefill of a long prompt)
     * @param stallTimeout      how long between tokens before the runtime counts as stalled; well under the
     *                          driver's 50 s heartbeat timeout (axera.md §8.1)
     */
    public record Config(List<String> command, Map<String, String> env, int port, Path workDir, Path stateDir, Duration stopGrace,
                         Duration loadGrace, Duration firstTokenTimeout, Duration stallTimeout, Duration probeInterval, Overlay overlay) {
    }

    /**
     * The folder {@code axllm serve} is given instead of the model folder: a link to each of the model folder's entries
     * and our own config.json, the model's with {@code server_timeout_ms} and {@code devices} set. main.cpp@00d7aaf reads
     * {@code <model_path>/config.json} and resolves every relative path in it against {@code model_path}
     * ({@code resolve_config_paths}), and scans that folder for tokenizer sidecars, so links stand in for the files.
     *
     * @param modelDir      the downloaded model folder (never written: {@code axfleet models verify} checks it)
     * @param dir           where the overlay is made; the command names it as the model folder
     * @param card          the card's index in the device list: config.json's {@code devices} is such an index
     *                      (src/runner/utils/axcl_manager.hpp, {@code axclrtSetDevice(lst.devices[devid])})
     * @param serverTimeout the stream's deadline from its start (server.cpp:355-364); longer than any answer
     */
    public record Overlay(Path modelDir, Path dir, int card, Duration serverTimeout) {
        /** Writes the overlay afresh; the model folder must hold a config.json that is a JSON object. */
        void write() throws RuntimeStartException {
            Path config = modelDir.resolve("config.json");
            JsonObject c;
            try {
                JsonElement e = JsonParser.parseString(Files.readString(config));
                if (!e.isJsonObject()) {
                    throw new RuntimeStartException("axllm serve reads " + config + " and it is not a JSON object");
                }
                c = e.getAsJsonObject();
            } catch (IOException | RuntimeException e) {
                throw new RuntimeStartException("axllm serve reads " + config + " (main.cpp ModelConfig::load_from_json): " + e.getMessage());
            }
            c.addProperty("server_timeout_ms", (int) Math.min(Integer.MAX_VALUE, serverTimeout.toMillis()));
            JsonArray devices = new JsonArray();
            devices.add(card);
            c.add("devices", devices);
            try {
                Files.createDirectories(dir);
                try (var old = Files.list(dir)) {
                    for (Path p : old.toList()) {
                        if (Files.isSymbolicLink(p) || Files.isRegularFile(p)) {
                            Files.delete(p);
                        }
                    }
                }
                try (var entries = Files.list(modelDir)) {
                    for (Path p : entries.toList()) {
                        if (!p.getFileName().toString().equals("config.json")) {
                            Files.createSymbolicLink(dir.resolve(p.getFileName().toString()), p.toAbsolutePath());
                        }
                    }
                }
                Files.writeString(dir.resolve("config.json"), new com.google.gson.GsonBuilder().setPrettyPrinting().create().toJson(c));
            } catch (IOException e) {
                throw new RuntimeStartException("cannot make the model folder overlay " + dir + " for axllm serve: " + e.getMessage());
            }
        }
    }

    /**
     * The model folder's config.json as this adapter reads it for what the model takes: {@code vlm_type} makes a vision
     * model (main.cpp@00d7aaf {@code load_from_json}: "Optional VLM switch"), whose encoder takes {@code vision_width} ×
     * {@code vision_height} (docs/configuration.md@0ac1df2: default 448, else inferred from the encoder's input); tools
     * are rendered for the tokenizer types AXERA-TECH/ax-llm:docs/tool_calling.md@0c74c77 lists (the Qwen3 family and
     * MiniCPM-V-4.6), other families answer in text as if none were given.
     */
    record ModelFolder(boolean vision, int visionWidth, int visionHeight, boolean tools) {
        static final java.util.Set<String> TOOL_TOKENIZERS = java.util.Set.of("Qwen3", "Qwen3VL", "Qwen2_5", "Qwen3_5", "Qwen3_5VL",
                "Qwen3Omni", "MiniCPMV46", "MiniCPMV46VL");
        static final ModelFolder UNKNOWN = new ModelFolder(false, 448, 448, false);

        static ModelFolder read(Path modelDir) {
            try {
                JsonObject c = JsonParser.parseString(Files.readString(modelDir.resolve("config.json"))).getAsJsonObject();
                boolean vision = c.has("vlm_type") || c.has("VLM_TYPE");
                int w = c.has("vision_width") ? c.get("vision_width").getAsInt() : 448;
                int h = c.has("vision_height") ? c.get("vision_height").getAsInt() : 448;
                String tokenizer = c.has("tokenizer_type") && c.get("tokenizer_type").isJsonPrimitive() ? c.get("tokenizer_type").getAsString() : "";
                return new ModelFolder(vision, w, h, TOOL_TOKENIZERS.contains(tokenizer));
            } catch (IOException | RuntimeException e) {
                return UNKNOWN; // start() reports a missing or broken config.json with its reason.
            }
        }
    }

    private final Config config;
    private final ModelFolder folder;
    private final RuntimeProcess process;
    private final HttpClient http = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2))
            .build();
    private final URI base;
    private final RuntimeLog runtimeLog = new RuntimeLog();
    private volatile String modelId;
    private volatile List<String> modelIds = List.of();
    /** Until when ({@link System#nanoTime()}) an answer whose stream was left may still be generating; 0: none. */
    private volatile long busyUntil;
    /** The answer left last had tokens: quiet output then means it ended. */
    private volatile boolean busyWithTokens;
    /** When ({@link System#nanoTime()}) the last answer's stream was left. */
    private volatile long leftAt;
    private volatile long nanosPerToken = DEFAULT_NANOS_PER_TOKEN;
    /** Before any answer was timed: slower than any model measured on the card (Qwen3-4B: 274 ms a token, F18). */
    static final long DEFAULT_NANOS_PER_TOKEN = 1_000_000_000L;

    public AxllmServeRuntime(Config config) {
        this.config = config;
        this.folder = config.overlay() == null ? ModelFolder.UNKNOWN : ModelFolder.read(config.overlay().modelDir());
        this.base = URI.create("http://127.0.0.1:" + config.port());
        this.process = new RuntimeProcess("axllm", config.command(), config.workDir(), config.env(),
                config.stateDir().resolve("axllm.pid"), config.stopGrace(), config.loadGrace());
        process.onLine(runtimeLog::line);
    }

    @Override
    public String kind() {
        return "axllm-serve";
    }

    @Override
    public java.util.List<Long> pids() {
        return process.alive() ? java.util.List.of(process.pid()) : java.util.List.of();
    }

    @Override
    public boolean emulated() {
        return runtimeLog.emulated();
    }

    @Override
    public int contextTokens() {
        return runtimeLog.contextTokens();
    }

    @Override
    public java.util.Set<Capability> capabilities() {
        java.util.Set<Capability> out = java.util.EnumSet.noneOf(Capability.class);
        if (folder.vision()) {
            out.add(Capability.VISION);
        }
        if (folder.tools()) {
            out.add(Capability.TOOLS);
        }
        return out;
    }

    @Override
    public void start(Duration timeout) throws RuntimeStartException {
        if (config.overlay() != null && !process.alive()) {
            config.overlay().write();
        }
        process.start();
        Readiness.await(List.of(process), this::answersHealth, timeout, config.probeInterval());
        JsonObject models = getJson("/v1/models");
        JsonArray data = models == null ? null : models.getAsJsonArray("data");
        if (data == null || data.isEmpty()) {
            throw new RuntimeStartException("axllm serve answers /health but lists no model in /v1/models");
        }
        JsonObject first = data.get(0).getAsJsonObject();
        modelId = first.get("id").getAsString();
        List<String> ids = new java.util.ArrayList<>();
        data.forEach(m -> ids.add(m.getAsJsonObject().get("id").getAsString()));
        modelIds = List.copyOf(ids);
        if (first.has("owned_by") && first.get("owned_by").getAsString().contains("emulator")) {
            runtimeLog.markEmulated();
        }
        process.markReady();
        log.info("axllm serve ready on {} with model {}{}", base, modelId, emulated() ? " (EMULATED, not the card)" : "");
    }

    /** The model ids {@code /v1/models} listed when the runtime became ready. */
    public List<String> models() {
        return modelIds;
    }

    /** Where the runtime listens. */
    public URI base() {
        return base;
    }

    @Override
    public boolean healthy() {
        return process.alive() && answersHealth();
    }

    @Override
    public void restart(String why, Duration timeout) throws RuntimeStartException {
        log.warn("restarting axllm serve: {}", why);
        awaitIdle();
        process.stop();
        start(timeout);
    }

    @Override
    public void close() {
        awaitIdle();
        process.stop();
    }

    /** What the runtime printed last, for error messages and tests. */
    public String recentOutput() {
        return process.recentOutput();
    }

    /**
     * Waits, before any signal, for an answer the runtime may still be generating after its stream was left (a job
     * cancelled, the worker stopping): in main.cpp@00d7aaf SIGINT stops the server loop but not a generation, and SIGTERM
     * has no handler before ax-llm PR #66, so a signal mid-answer ends in SIGTERM or SIGKILL during an execution. The wait
     * ends when the runtime's output has been quiet for a while after tokens (it prints each piece as it goes), or after
     * the rest of one full answer at the pace measured.
     */
    private void awaitIdle() {
        long until = busyUntil;
        if (until == 0 || !process.alive()) {
            return;
        }
        // Ten tokens' time at the pace measured, 2 to 10 s; 3 s before any pace was measured.
        long quiet = nanosPerToken == DEFAULT_NANOS_PER_TOKEN ? Duration.ofSeconds(3).toNanos()
                : Math.min(Duration.ofSeconds(10).toNanos(), Math.max(Duration.ofSeconds(2).toNanos(), 10 * nanosPerToken));
        log.info("axllm serve may still be generating an answer whose stream was left; waiting up to {} s for it to end before stopping "
                + "it or asking it again", Math.max(0, (until - System.nanoTime()) / 1_000_000_000L));
        long left = leftAt;
        while (System.nanoTime() < until && process.alive()) {
            long lastOutput = process.lastOutputNanos();
            boolean printedSince = lastOutput > left;
            // Tokens were coming (or came since): quiet output means the answer ended. None yet: it was still reading the
            // prompt, which the first-token limit bounds.
            long limit = busyWithTokens || printedSince ? quiet : config.firstTokenTimeout().toNanos();
            if (System.nanoTime() - Math.max(left, lastOutput) > limit) {
                break;
            }
            sleep(Duration.ofMillis(100));
        }
        busyUntil = 0;
    }

    private boolean answersHealth() {
        try {
            HttpResponse<Void> r = http.send(HttpRequest.newBuilder(base.resolve("/health")).timeout(Duration.ofSeconds(2)).GET().build(),
                    HttpResponse.BodyHandlers.discarding());
            return r.statusCode() == 200;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private JsonObject getJson(String path) {
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(5)).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
            JsonElement e = JsonParser.parseString(r.body());
            return e.isJsonObject() ? e.getAsJsonObject() : null;
        } catch (IOException | RuntimeException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    /** axllm honours the thinking switch for the Qwen3 family and MiniCPM5 only (docs/configuration.md). */
    @Override
    public boolean thinks() {
        String id = modelId == null ? "" : modelId.toLowerCase(Locale.ROOT);
        return id.contains("qwen3") || id.contains("minicpm5");
    }

    @Override
    public ChatOutcome chat(ChatParams params, Generation generation) throws EngineException {
        awaitIdle();
        unhonoured(params, generation);
        HttpRequest request = HttpRequest.newBuilder(base.resolve("/v1/chat/completions"))
                .timeout(config.firstTokenTimeout())
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body(params, generation).toString()))
                .build();
        long busyUntil = System.nanoTime() + config.firstTokenTimeout().toNanos();
        while (true) {
            HttpResponse<InputStream> response = send(request);
            int status = response.statusCode();
            if (status == 200) {
                return read(response.body(), generation, params);
            }
            String text = drain(response.body());
            if ((status == 503 || status == 429) && System.nanoTime() < busyUntil && !generation.isCancelled()) {
                // The runtime still holds its one slot (an answer whose client went away); wait for it.
                sleep(config.probeInterval());
                continue;
            }
            String message = errorMessage(text);
            if (status == 400) {
                throw new EngineException(contextFull(message, params) ? EngineException.Kind.CONTEXT_FULL : EngineException.Kind.REJECTED,
                        "axllm serve refused the request: " + message);
            }
            if (status == 504 || status == 503 || status == 429) {
                throw new EngineException(EngineException.Kind.STALLED, "axllm serve answered " + status + ": " + message);
            }
            throw new EngineException(EngineException.Kind.UNAVAILABLE, "axllm serve answered " + status + ": " + message);
        }
    }

    private HttpResponse<InputStream> send(HttpRequest request) throws EngineException {
        return RuntimeHttp.send(http, request, HttpResponse.BodyHandlers.ofInputStream(), "axllm serve", base,
                "did not answer within " + config.firstTokenTimeout());
    }

    /**
     * Whether a model error is the prompt not fitting: its words (the real text is still to be recorded: docs/hardware.md
     * U3), or the prompt's estimated size against the context the runtime logged.
     */
    private boolean contextFull(String message, ChatParams params) {
        String lower = message.toLowerCase(Locale.ROOT);
        if (lower.contains("context") || lower.contains("too long") || lower.contains("max_token_len") || lower.contains("kv cache")
                || lower.contains("kvcache")) {
            return true;
        }
        int context = contextTokens();
        return context > 0 && dev.axfleet.broker.chat.TokenEstimate.of(params.messages()) >= context;
    }

    /** Keys the job set that this revision of the runtime does not read per request, said in the result. */
    private static void unhonoured(ChatParams p, Generation generation) {
        if (p.seed() != null) {
            generation.warn("seed not honoured: axllm serve reads only temperature and top_p per request (main.cpp@00d7aaf "
                    + "SetRequestSamplingOverride); answers with temperature > 0 are not reproducible");
        }
        if (p.presencePenalty() != null || p.frequencyPenalty() != null) {
            generation.warn("presence_penalty/frequency_penalty sent but possibly ignored: axllm serve at main.cpp@00d7aaf reads only "
                    + "temperature and top_p per request; later ax-llm revisions read the penalties (docs/configuration.md)");
        }
    }

    /** Reads the SSE stream; a watchdog closes it when tokens stop coming or the job is cancelled. */
    private ChatOutcome read(InputStream in, Generation generation, ChatParams params) throws EngineException {
        AtomicLong lastProgress = new AtomicLong(System.nanoTime());
        AtomicBoolean firstToken = new AtomicBoolean();
        AtomicBoolean stalled = new AtomicBoolean();
        long checkMs = Math.max(10, Math.min(250, config.stallTimeout().toMillis() / 10));
        ScheduledFuture<?> watchdog = WATCHDOG.scheduleWithFixedDelay(() -> {
            long limit = (firstToken.get() ? config.stallTimeout() : config.firstTokenTimeout()).toNanos();
            boolean late = System.nanoTime() - lastProgress.get() > limit;
            if (late || generation.isCancelled()) {
                stalled.set(late);
                closeQuietly(in);
            }
        }, checkMs, checkMs, TimeUnit.MILLISECONDS);
        Usage usage = null;
        boolean done = false;
        boolean finished = false;
        boolean stoppedEarly = false;
        boolean draining = false;
        int pieces = 0;
        long firstPiece = 0;
        long lastPiece = 0;
        ThinkTags parts = new ThinkTags(generation);
        ToolCallText leaked = params.tools().isEmpty() ? null : new ToolCallText(params.tools(), parts::accept);
        List<ToolCall> toolCalls = new java.util.ArrayList<>();
        String malformed = null;
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            String line;
            while ((line = reader.readLine()) != null) {
                if (!line.startsWith("data:")) {
                    continue;
                }
                String data = line.substring(5).trim();
                if (data.equals("[DONE]")) {
                    done = true;
                    break;
                }
                JsonObject chunk = JsonParser.parseString(data).getAsJsonObject();
                if (chunk.has("error")) {
                    // OutputChunk::Error("model_error", llm.GetLastError()) inside the 200 stream (main.cpp@00d7aaf registerChat).
                    String message = errorMessage(data);
                    throw new EngineException(contextFull(message, params) ? EngineException.Kind.CONTEXT_FULL : EngineException.Kind.REJECTED,
                            "axllm serve: " + message);
                }
                if (chunk.has("usage") && chunk.get("usage").isJsonObject()) {
                    JsonObject u = chunk.getAsJsonObject("usage");
                    int prompt = intOr(u, "prompt_tokens");
                    int completion = intOr(u, "completion_tokens");
                    // Zeros are the encoder's placeholder (encoder.hpp ChatCompletionsJSONEncoder), not counts.
                    if (prompt > 0 || completion > 0) {
                        usage = new Usage(prompt, completion, false);
                    }
                }
                if (finishReason(chunk) != null) {
                    finished = true;
                }
                if (deltaToolCalls(chunk, toolCalls)) {
                    firstToken.set(true);
                    lastProgress.set(System.nanoTime());
                }
                String content = deltaContent(chunk);
                if (content != null && !content.isEmpty()) {
                    firstToken.set(true);
                    long now = System.nanoTime();
                    lastProgress.set(now);
                    pieces++;
                    firstPiece = firstPiece == 0 ? now : firstPiece;
                    lastPiece = now;
                    if (!draining && !(leaked != null ? leaked.accept(content) : parts.accept(content))) {
                        if (generation.finishReason() != FinishReason.LENGTH || generation.isCancelled()) {
                            stoppedEarly = true;
                            break;
                        }
                        // The runtime got the same max_tokens and stops by itself: read on for its usage counts.
                        draining = true;
                    }
                }
            }
        } catch (IOException e) {
            if (!stalled.get() && !generation.isCancelled()) {
                throw new EngineException(EngineException.Kind.UNAVAILABLE, "axllm serve stream broke: " + e.getMessage(), e);
            }
        } catch (RuntimeException e) {
            throw new EngineException(EngineException.Kind.UNAVAILABLE, "axllm serve sent an unreadable stream: " + e, e);
        } finally {
            watchdog.cancel(false);
        }
        if (pieces > 1) {
            nanosPerToken = Math.max(1, (lastPiece - firstPiece) / (pieces - 1));
        }
        if (stalled.get()) {
            throw new EngineException(EngineException.Kind.STALLED, "axllm serve produced no token for "
                    + (firstToken.get() ? config.stallTimeout() : config.firstTokenTimeout()));
        }
        if (!done) {
            // The stream was left before its end: the runtime may go on generating the rest of the answer.
            long rest = Math.max(0, generation.maxTokens() - pieces) * nanosPerToken * 3 / 2
                    + (pieces == 0 ? config.firstTokenTimeout().toNanos() : 0);
            busyWithTokens = pieces > 0;
            leftAt = System.nanoTime();
            busyUntil = leftAt + rest;
        }
        if (!done && !stoppedEarly && !generation.isCancelled()) {
            throw new EngineException(EngineException.Kind.UNAVAILABLE, "axllm serve ended the stream without [DONE]");
        }
        if (done && !finished && !draining) {
            if (pieces == 0) {
                throw new EngineException(EngineException.Kind.REJECTED, "axllm serve ended its stream with [DONE] and nothing before it "
                        + "(no text, no finish_reason)");
            }
            // server.cpp:357-364 writes [DONE] when the stream outlives server_timeout_ms, with no finish chunk.
            generation.cutShort("answer cut short: axllm serve closed the stream with [DONE] and no finish_reason after " + pieces
                    + " pieces (its server_timeout_ms ran out, or the runtime stopped); the text is incomplete");
        }
        if (leaked != null) {
            leaked.end();
            malformed = unreadable(toolCalls, params);
            toolCalls.addAll(leaked.calls());
            malformed = malformed != null ? malformed : leaked.malformed();
        }
        parts.end();
        generation.endWithRuntimeCount(usage == null ? generation.tokens() : usage.completionTokens());
        int completion = stoppedEarly || usage == null ? generation.tokens() : usage.completionTokens();
        FinishReason finish = toolCalls.isEmpty() ? generation.finishReason() : FinishReason.TOOL_CALLS;
        return new ChatOutcome(generation.text(), finish, usage == null ? null : new Usage(usage.promptTokens(), completion, false),
                toolCalls, malformed);
    }

    private JsonObject body(ChatParams p, Generation generation) throws EngineException {
        JsonObject o = new JsonObject();
        o.addProperty("model", modelId);
        JsonArray messages = new JsonArray();
        for (int i = 0; i < p.messages().size(); i++) {
            messages.add(message(p.messages().get(i), i));
        }
        o.add("messages", messages);
        o.addProperty("stream", true);
        o.addProperty("max_tokens", generation.maxTokens());
        // Always said, never left to the model's default: Qwen3 thinks unless told not to, and an answer that is
        // spoken aloud must not carry its thinking (AXERA-TECH/ax-llm:docs/configuration.md, "思考模式").
        o.addProperty("enable_thinking", p.think());
        if (p.temperature() != null) {
            o.addProperty("temperature", p.temperature());
        }
        if (p.topP() != null) {
            o.addProperty("top_p", p.topP());
        }
        if (p.presencePenalty() != null) {
            o.addProperty("presence_penalty", p.presencePenalty());
        }
        if (p.frequencyPenalty() != null) {
            o.addProperty("frequency_penalty", p.frequencyPenalty());
        }
        // seed is not sent: no revision of axllm serve read here uses it (main.cpp@00d7aaf); the result says so.
        if (!p.tools().isEmpty()) {
            // docs/tool_calling.md@0c74c77: OpenAI's tools and tool_choice, rendered by the runtime into Qwen3's prompt.
            JsonArray tools = new JsonArray();
            for (Tool t : p.tools()) {
                JsonObject fn = new JsonObject();
                fn.addProperty("name", t.name());
                fn.addProperty("description", t.description());
                fn.add("parameters", t.parameters());
                JsonObject to = new JsonObject();
                to.addProperty("type", "function");
                to.add("function", fn);
                tools.add(to);
            }
            o.add("tools", tools);
            switch (p.toolChoice().mode()) {
                case AUTO -> { }
                case NONE, REQUIRED -> o.addProperty("tool_choice", p.toolChoice().mode().wire());
                case FUNCTION -> {
                    JsonObject named = new JsonObject();
                    named.addProperty("name", p.toolChoice().name());
                    JsonObject choice = new JsonObject();
                    choice.addProperty("type", "function");
                    choice.add("function", named);
                    o.add("tool_choice", choice);
                }
            }
        }
        return o;
    }

    /**
     * A message as main.cpp@00d7aaf {@code handle_api_messages} reads it: a string, or (with images) an array whose text
     * parts it joins and whose {@code image_url} parts it decodes from {@code data:} URLs into temporary files; anything
     * but a data URL it takes for a path on the Pi, so only data URLs are ever sent. Each image is first made what the
     * encoder needs ({@link VisionInput}).
     */
    private JsonObject message(ChatMessage m, int index) throws EngineException {
        JsonObject mo = new JsonObject();
        mo.addProperty("role", m.role());
        if (!m.toolCalls().isEmpty()) {
            // As docs/tool_calling.md's history has it; content a string (main.cpp@00d7aaf refuses a null one).
            JsonArray calls = new JsonArray();
            for (ToolCall c : m.toolCalls()) {
                JsonObject fn = new JsonObject();
                fn.addProperty("name", c.name());
                fn.addProperty("arguments", c.arguments());
                JsonObject co = new JsonObject();
                co.addProperty("id", c.id());
                co.addProperty("type", "function");
                co.add("function", fn);
                calls.add(co);
            }
            mo.add("tool_calls", calls);
        }
        if (m.toolCallId() != null) {
            mo.addProperty("tool_call_id", m.toolCallId());
        }
        if (m.images().isEmpty()) {
            mo.addProperty("content", m.content());
            return mo;
        }
        if (!folder.vision()) {
            throw new EngineException(EngineException.Kind.REJECTED, "model " + modelId + " takes no images (its config.json has no vlm_type)",
                    "messages[" + index + "].content");
        }
        JsonArray parts = new JsonArray();
        int image = 0;
        for (Part part : m.parts()) {
            JsonObject po = new JsonObject();
            switch (part.type()) {
                case TEXT -> {
                    po.addProperty("type", "text");
                    po.addProperty("text", ((Part.Text) part).text());
                }
                case IMAGE -> {
                    VisionInput.Prepared ready;
                    try {
                        ready = VisionInput.prepare(((Part.Image) part).data(), folder.visionWidth(), folder.visionHeight());
                    } catch (IllegalArgumentException e) {
                        throw new EngineException(EngineException.Kind.REJECTED, "image " + (image + 1) + ": " + e.getMessage(),
                                "messages[" + index + "].content");
                    }
                    image++;
                    JsonObject url = new JsonObject();
                    url.addProperty("url", ready.dataUrl());
                    po.addProperty("type", "image_url");
                    po.add("image_url", url);
                }
            }
            parts.add(po);
        }
        mo.add("content", parts);
        return mo;
    }

    private static String finishReason(JsonObject chunk) {
        JsonArray choices = chunk.getAsJsonArray("choices");
        if (choices == null || choices.isEmpty()) {
            return null;
        }
        JsonElement f = choices.get(0).getAsJsonObject().get("finish_reason");
        return f == null || f.isJsonNull() ? null : f.getAsString();
    }

    /**
     * The {@code delta.tool_calls} of a chunk (docs/tool_calling.md@0c74c77: one chunk with the whole call, arguments a
     * JSON string) added to {@code calls}; pieces of one call by {@code index} are joined, as OpenAI's deltas are. True
     * when the chunk held some.
     */
    private static boolean deltaToolCalls(JsonObject chunk, List<ToolCall> calls) {
        JsonArray choices = chunk.getAsJsonArray("choices");
        if (choices == null || choices.isEmpty()) {
            return false;
        }
        JsonObject choice = choices.get(0).getAsJsonObject();
        JsonObject delta = choice.has("delta") && choice.get("delta").isJsonObject() ? choice.getAsJsonObject("delta")
                : choice.has("message") && choice.get("message").isJsonObject() ? choice.getAsJsonObject("message") : null;
        JsonElement tc = delta == null ? null : delta.get("tool_calls");
        if (tc == null || !tc.isJsonArray() || tc.getAsJsonArray().isEmpty()) {
            return false;
        }
        for (JsonElement e : tc.getAsJsonArray()) {
            JsonObject c = e.getAsJsonObject();
            JsonObject fn = c.has("function") && c.get("function").isJsonObject() ? c.getAsJsonObject("function") : new JsonObject();
            String name = fn.has("name") && !fn.get("name").isJsonNull() ? fn.get("name").getAsString() : null;
            JsonElement args = fn.get("arguments");
            String arguments = args == null || args.isJsonNull() ? "" : args.isJsonPrimitive() ? args.getAsString() : args.toString();
            int index = c.has("index") ? c.get("index").getAsInt() : calls.size();
            if (index < calls.size() && name == null) {
                ToolCall before = calls.get(index);
                calls.set(index, new ToolCall(before.id(), before.name(), before.arguments() + arguments));
                continue;
            }
            String id = c.has("id") && !c.get("id").isJsonNull() ? c.get("id").getAsString() : "call_" + calls.size() + "_" + name;
            calls.add(new ToolCall(id, name == null ? "" : name, arguments));
        }
        return true;
    }

    /** Why one of the runtime's calls cannot be read (an unknown tool, arguments that are not a JSON object), or null. */
    private static String unreadable(List<ToolCall> calls, ChatParams params) {
        for (ToolCall call : calls) {
            if (params.tools().stream().noneMatch(t -> t.name().equals(call.name()))) {
                return "the model called " + (call.name().isEmpty() ? "a tool without a name" : "'" + call.name() + "'")
                        + ", which is not among the request's tools";
            }
            try {
                JsonFields.parseObject(call.arguments().isBlank() ? "{}" : call.arguments());
            } catch (RuntimeException ex) {
                return "the model's call of '" + call.name() + "' has arguments that are not a JSON object: " + call.arguments();
            }
        }
        return null;
    }

    private static int intOr(JsonObject o, String key) {
        JsonElement e = o.get(key);
        return e != null && e.isJsonPrimitive() && e.getAsJsonPrimitive().isNumber() ? e.getAsInt() : 0;
    }

    private static String deltaContent(JsonObject chunk) {
        JsonArray choices = chunk.getAsJsonArray("choices");
        if (choices == null || choices.isEmpty()) {
            return null;
        }
        JsonObject delta = choices.get(0).getAsJsonObject().getAsJsonObject("delta");
        JsonElement content = delta == null ? null : delta.get("content");
        return content == null || content.isJsonNull() ? null : content.getAsString();
    }

    private static String errorMessage(String body) {
        try {
            JsonObject o = JsonParser.parseString(body).getAsJsonObject();
            JsonElement e = o.get("error");
            if (e != null && e.isJsonObject() && e.getAsJsonObject().has("message")) {
                return e.getAsJsonObject().get("message").getAsString();
            }
            return e == null ? body : e.toString();
        } catch (RuntimeException e) {
            return body.length() > 300 ? body.substring(0, 300) : body;
        }
    }

    private static String drain(InputStream in) {
        try (in) {
            return new String(in.readNBytes(64 * 1024), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    private static void closeQuietly(InputStream in) {
        try {
            in.close();
        } catch (IOException ignored) {
            // Closing is how the watchdog interrupts a blocked read; a failure there changes nothing.
        }
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
