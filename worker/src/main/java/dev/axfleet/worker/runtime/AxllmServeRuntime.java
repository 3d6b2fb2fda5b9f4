package dev.axfleet.worker.runtime;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.axfleet.broker.chat.ChatMessage;
import dev.axfleet.broker.chat.ChatParams;
import dev.axfleet.broker.chat.FinishReason;
import dev.axfleet.broker.Usage;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
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
 * branch axllm; HTTP layer ZHEQIUSHUI/openai-api.cpp; ../shared/axera.md §1.6). Ready when {@code GET /health}
 * answers 200; asked with {@code POST /v1/chat/completions} and always streamed, so a stalled card is seen
 * between tokens, not only at the end.
 *
 * <p>Per request it honours {@code temperature}, {@code top_p}, {@code frequency_penalty},
 * {@code presence_penalty} and {@code max_tokens}; top-k and the repetition penalty live only in the model's
 * post_config.json (docs/configuration.md), so they are not sent.
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
                         Duration loadGrace, Duration firstTokenTimeout, Duration stallTimeout, Duration probeInterval) {
    }

    private final Config config;
    private final RuntimeProcess process;
    private final HttpClient http = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2))
            .build();
    private final URI base;
    private final RuntimeLog runtimeLog = new RuntimeLog();
    private volatile String modelId;
    private volatile List<String> modelIds = List.of();

    public AxllmServeRuntime(Config config) {
        this.config = config;
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
    public void start(Duration timeout) throws RuntimeStartException {
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
        process.stop();
        start(timeout);
    }

    @Override
    public void close() {
        process.stop();
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
        HttpRequest request = HttpRequest.newBuilder(base.resolve("/v1/chat/completions"))
                .timeout(config.firstTokenTimeout())
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body(params, generation.maxTokens()).toString()))
                .build();
        long busyUntil = System.nanoTime() + config.firstTokenTimeout().toNanos();
        while (true) {
            HttpResponse<InputStream> response = send(request);
            int status = response.statusCode();
            if (status == 200) {
                return read(response.body(), generation);
            }
            String text = drain(response.body());
            if ((status == 503 || status == 429) && System.nanoTime() < busyUntil && !generation.isCancelled()) {
                // The runtime still holds its one slot (an answer whose client went away); wait for it.
                sleep(config.probeInterval());
                continue;
            }
            String message = errorMessage(text);
            if (status == 400) {
                String lower = message.toLowerCase(Locale.ROOT);
                boolean context = lower.contains("context") || lower.contains("too long") || lower.contains("max_token_len");
                throw new EngineException(context ? EngineException.Kind.CONTEXT_FULL : EngineException.Kind.REJECTED,
                        "axllm serve refused the request: " + message);
            }
            if (status == 504 || status == 503 || status == 429) {
                throw new EngineException(EngineException.Kind.STALLED, "axllm serve answered " + status + ": " + message);
            }
            throw new EngineException(EngineException.Kind.UNAVAILABLE, "axllm serve answered " + status + ": " + message);
        }
    }

    private HttpResponse<InputStream> send(HttpRequest request) throws EngineException {
        try {
            return http.send(request, HttpResponse.BodyHandlers.ofInputStream());
        } catch (HttpTimeoutException e) {
            throw new EngineException(EngineException.Kind.STALLED, "axllm serve did not answer within " + config.firstTokenTimeout(), e);
        } catch (ConnectException e) {
            throw new EngineException(EngineException.Kind.UNAVAILABLE, "axllm serve is not listening on " + base, e);
        } catch (IOException e) {
            throw new EngineException(EngineException.Kind.UNAVAILABLE, "axllm serve connection failed: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new EngineException(EngineException.Kind.UNAVAILABLE, "interrupted", e);
        }
    }

    /** Reads the SSE stream; a watchdog closes it when tokens stop coming or the job is cancelled. */
    private ChatOutcome read(InputStream in, Generation generation) throws EngineException {
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
        boolean stoppedEarly = false;
        boolean draining = false;
        ThinkTags parts = new ThinkTags(generation);
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
                    throw new EngineException(EngineException.Kind.REJECTED, "axllm serve: " + errorMessage(data));
                }
                if (chunk.has("usage") && chunk.get("usage").isJsonObject()) {
                    JsonObject u = chunk.getAsJsonObject("usage");
                    usage = new Usage(u.get("prompt_tokens").getAsInt(), u.get("completion_tokens").getAsInt(), false);
                }
                String content = deltaContent(chunk);
                if (content != null && !content.isEmpty()) {
                    firstToken.set(true);
                    lastProgress.set(System.nanoTime());
                    if (!draining && !parts.accept(content)) {
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
        if (stalled.get()) {
            throw new EngineException(EngineException.Kind.STALLED, "axllm serve produced no token for "
                    + (firstToken.get() ? config.stallTimeout() : config.firstTokenTimeout()));
        }
        if (!done && !stoppedEarly && !generation.isCancelled()) {
            throw new EngineException(EngineException.Kind.UNAVAILABLE, "axllm serve ended the stream without [DONE]");
        }
        parts.end();
        generation.endWithRuntimeCount(usage == null ? generation.tokens() : usage.completionTokens());
        int completion = stoppedEarly || usage == null ? generation.tokens() : usage.completionTokens();
        return new ChatOutcome(generation.text(), generation.finishReason(),
                usage == null ? null : new Usage(usage.promptTokens(), completion, false));
    }

    private JsonObject body(ChatParams p, int maxTokens) {
        JsonObject o = new JsonObject();
        o.addProperty("model", modelId);
        JsonArray messages = new JsonArray();
        for (ChatMessage m : p.messages()) {
            JsonObject mo = new JsonObject();
            mo.addProperty("role", m.role());
            mo.addProperty("content", m.content());
            messages.add(mo);
        }
        o.add("messages", messages);
        o.addProperty("stream", true);
        o.addProperty("max_tokens", maxTokens);
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
        if (p.seed() != null) {
            o.addProperty("seed", p.seed());
        }
        return o;
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
