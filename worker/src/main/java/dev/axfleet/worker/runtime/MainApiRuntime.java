package dev.axfleet.worker.runtime;

import dev.axfleet.broker.chat.TokenEstimate;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.axfleet.broker.chat.ChatMessage;
import dev.axfleet.broker.chat.ChatParams;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The legacy runtime: {@code main_api_axcl_aarch64} plus its tokenizer server (../shared/axera.md §1.2–1.4,
 * gregm123456/ax-llm:src/main_api.cpp@086f4e6). Its quirks, and what this adapter does about them:
 * <ul>
 * <li>One stateful conversation: every job starts with {@code POST /api/reset} carrying the job's system
 *     prompt, and the rest of the job's history goes into the prompt as a transcript (the runtime cannot
 *     be told earlier assistant turns).</li>
 * <li>Reset and generate are asynchronous and answer 400 {@code llm is running} while busy: both are
 *     retried until accepted.</li>
 * <li>A poll right after {@code /api/generate} can answer an empty {@code done:true} before generation
 *     starts: an empty "done" within {@code earlyDoneGrace} is ignored.</li>
 * <li>Sampling settings are global and sticky, with hyphenated keys: all four are sent on every request.
 *     A repetition penalty below 1.0001 is skipped by the runtime, so once set it stays (documented).</li>
 * <li>No {@code max_tokens}: the adapter counts and sends {@code GET /api/stop}.</li>
 * <li>A full context answers {@code error: SetKVCache failed...}: the job fails with a context error;
 *     if the runtime then stays "running" (the wedge seen in the field) it is restarted.</li>
 * <li>The tokenizer binds its uid at start, so a restart always restarts both processes.</li>
 * <li>A poll drains the token queue before it reads the running flag, so a "done" can leave the last token
 *     queued: the adapter polls once more after "done", and once before each job.</li>
 * <li>The poll route is {@code /api/generate_provider} in the binaries M5Stack ships and
 *     {@code /api/content} in AXERA's docs/http_api.md: probed once at start.</li>
 * </ul>
 */
public final class MainApiRuntime implements ChatRuntime {
    private static final Logger log = LoggerFactory.getLogger(MainApiRuntime.class);
    private static final String CONTEXT_FULL_MARK = "error: SetKVCache failed";
    private static final List<String> POLL_ROUTES = List.of("/api/generate_provider", "/api/content");

    /**
     * @param port            8000 for the real binary (hard-coded there); the emulator can be moved
     * @param pollInterval    M5Stack advises 200–500 ms
     * @param defaultSampling the runtime's post_config.json defaults, sent when a job leaves a key unset
     */
    public record Config(List<String> command, List<String> tokenizerCommand, Map<String, String> env, Path workDir, int port, int tokenizerPort,
                         Path stateDir, Duration stopGrace, Duration loadGrace, Duration firstTokenTimeout,
                         Duration stallTimeout, Duration pollInterval, Duration earlyDoneGrace, String defaultSystemPrompt,
                         Sampling defaultSampling) {
    }

    /** The four keys main_api understands (set_llm_config), with the runtime's meaning of "off". */
    public record Sampling(double temperature, double topP, int topK, double repetitionPenalty) {
        /** The shipped post_config.json: greedy (top_k 1), temperature and top-p off (gregm123456/Qwen3-4B:post_config.json). */
        public static final Sampling SHIPPED = new Sampling(0, 0, 1, 1.0);
    }

    private final Config config;
    private final RuntimeProcess tokenizer;
    private final RuntimeProcess mainApi;
    private final HttpClient http = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2))
            .build();
    private final URI base;
    private final AtomicBoolean tokenizerReady = new AtomicBoolean();
    private final AtomicBoolean apiReady = new AtomicBoolean();
    private final RuntimeLog runtimeLog = new RuntimeLog();
    private volatile String pollRoute;

    public MainApiRuntime(Config config) {
        this.config = config;
        this.base = URI.create("http://127.0.0.1:" + config.port());
        this.tokenizer = new RuntimeProcess("tokenizer", config.tokenizerCommand(), config.workDir(), config.env(),
                config.stateDir().resolve("tokenizer.pid"), config.stopGrace(), config.stopGrace());
        this.mainApi = new RuntimeProcess("main_api", config.command(), config.workDir(), config.env(),
                config.stateDir().resolve("main_api.pid"), config.stopGrace(), config.loadGrace());
        tokenizer.onLine(runtimeLog::line);
        tokenizer.onLine(line -> tokenizerReady.compareAndSet(false, line.startsWith("Server running at")));
        mainApi.onLine(runtimeLog::line);
        mainApi.onLine(line -> apiReady.compareAndSet(false, line.startsWith("Server running on port")));
    }

    @Override
    public String kind() {
        return "main-api";
    }

    @Override
    public java.util.List<Long> pids() {
        return java.util.stream.Stream.of(mainApi, tokenizer).filter(RuntimeProcess::alive).map(RuntimeProcess::pid).toList();
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
        tokenizerReady.set(false);
        apiReady.set(false);
        tokenizer.start();
        Readiness.await(List.of(tokenizer), () -> tokenizerReady.get() && Readiness.listening(config.tokenizerPort()),
                timeout, config.pollInterval());
        tokenizer.markReady();
        mainApi.start();
        Readiness.await(List.of(tokenizer, mainApi), () -> apiReady.get() && Readiness.listening(config.port()),
                timeout, config.pollInterval());
        mainApi.markReady();
        pollRoute = probePollRoute();
        log.info("main_api ready on {} (poll {}, context {} tokens){}", base, pollRoute, contextTokens(),
                emulated() ? " (EMULATED, not the card)" : "");
    }

    /** One-time capability probe at start, while idle: draining an empty message queue changes nothing. */
    private String probePollRoute() throws RuntimeStartException {
        for (String route : POLL_ROUTES) {
            try {
                HttpResponse<String> r = get(route);
                if (r.statusCode() == 200) {
                    return route;
                }
            } catch (EngineException e) {
                throw new RuntimeStartException("main_api does not answer: " + e.getMessage());
            }
        }
        throw new RuntimeStartException("main_api answers neither " + POLL_ROUTES + " (see docs/hardware.md)");
    }

    @Override
    public boolean healthy() {
        return tokenizer.alive() && mainApi.alive() && Readiness.listening(config.port());
    }

    @Override
    public void restart(String why, Duration timeout) throws RuntimeStartException {
        log.warn("restarting main_api and its tokenizer: {}", why);
        close();
        start(timeout);
    }

    @Override
    public void close() {
        mainApi.stop();
        tokenizer.stop();
    }

    @Override
    public ChatOutcome chat(ChatParams params, Generation generation) throws EngineException {
        String system = params.messages().stream().filter(m -> m.role().equals(ChatMessage.SYSTEM))
                .map(ChatMessage::content).reduce((a, b) -> a + "\n" + b).orElse(config.defaultSystemPrompt());
        String prompt = LegacyPrompt.render(params.messages());
        // Whatever an earlier, stopped answer left in the runtime's queue is not this job's.
        get(pollRoute);
        JsonObject reset = new JsonObject();
        reset.addProperty("system_prompt", system);
        postUntilAccepted("/api/reset", reset, generation);
        JsonObject body = sampling(params);
        body.addProperty("prompt", prompt);
        postUntilAccepted("/api/generate", body, generation);
        return poll(generation);
    }

    /** Every key on every request: the runtime keeps whatever was set last (set_llm_config). */
    private JsonObject sampling(ChatParams p) {
        Sampling d = config.defaultSampling();
        JsonObject o = new JsonObject();
        o.addProperty("temperature", p.temperature() != null ? p.temperature() : d.temperature());
        o.addProperty("top-p", p.topP() != null ? p.topP() : d.topP());
        o.addProperty("top-k", p.topK() != null ? p.topK() : d.topK());
        o.addProperty("repetition_penalty", p.repeatPenalty() != null ? p.repeatPenalty() : d.repetitionPenalty());
        return o;
    }

    private ChatOutcome poll(Generation generation) throws EngineException {
        long started = System.nanoTime();
        long lastProgress = started;
        long lastBusy = started;
        boolean sawText = false;
        boolean stopSent = false;
        StringBuilder raw = new StringBuilder();
        while (true) {
            JsonObject r = json(get(pollRoute));
            String piece = r.has("response") ? r.get("response").getAsString() : "";
            boolean done = r.has("done") && r.get("done").getAsBoolean();
            long now = System.nanoTime();
            if (!done) {
                lastBusy = now;
            }
            if (!piece.isEmpty()) {
                lastProgress = now;
                sawText = true;
                raw.append(piece);
                if (raw.indexOf(CONTEXT_FULL_MARK) == 0) {
                    contextFull();
                }
                if (!stopSent && !generation.accept(piece, TokenEstimate.of(piece))) {
                    get("/api/stop");
                    stopSent = true;
                }
            } else if (!stopSent && generation.isCancelled()) {
                get("/api/stop");
                stopSent = true;
            }
            // An empty "done" right after a request can come before the runtime even started it: only a
            // "done" that lasts earlyDoneGrace since the runtime was last seen busy ends an empty answer.
            if (done && (sawText || now - lastBusy > config.earlyDoneGrace().toNanos())) {
                // The runtime drains its queue before it reads its running flag, and its generating thread
                // pushes the last token before it clears that flag: a "done" can leave the last token queued.
                String rest = json(get(pollRoute)).get("response").getAsString();
                if (!rest.isEmpty() && !stopSent) {
                    generation.accept(rest, TokenEstimate.of(rest));
                }
                break;
            }
            Duration limit = sawText ? config.stallTimeout() : config.firstTokenTimeout();
            if (!done && now - lastProgress > limit.toNanos()) {
                throw new EngineException(EngineException.Kind.STALLED,
                        "main_api reported running but produced nothing for " + limit);
            }
            sleep(config.pollInterval());
        }
        generation.end();
        return new ChatOutcome(generation.text(), generation.finishReason(), null);
    }

    /** The context-full error; when the runtime stays "running" afterwards it is wedged and must restart. */
    private void contextFull() throws EngineException {
        sleep(config.pollInterval());
        JsonObject after = json(get(pollRoute));
        boolean wedged = after.has("done") && !after.get("done").getAsBoolean();
        throw new EngineException(wedged ? EngineException.Kind.STALLED : EngineException.Kind.CONTEXT_FULL,
                "the prompt does not fit the model's context" + (contextTokens() > 0 ? " (" + contextTokens() + " tokens)" : "")
                        + (wedged ? "; main_api is stuck 'running' afterwards" : ""));
    }

    /** POSTs until main_api stops answering "llm is running" (it is still busy with the previous step). */
    private void postUntilAccepted(String path, JsonObject body, Generation generation) throws EngineException {
        long deadline = System.nanoTime() + config.firstTokenTimeout().toNanos();
        while (true) {
            HttpResponse<String> r = send(HttpRequest.newBuilder(base.resolve(path))
                    .timeout(Duration.ofSeconds(10))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body.toString())).build());
            if (r.statusCode() == 200) {
                return;
            }
            String error = errorOf(r.body());
            boolean busy = r.statusCode() == 400 && (error.equals("llm is running") || error.equals("Model initing"));
            if (!busy) {
                throw new EngineException(EngineException.Kind.REJECTED, "main_api " + path + " answered " + r.statusCode() + " " + r.body());
            }
            if (System.nanoTime() > deadline) {
                throw new EngineException(EngineException.Kind.STALLED, "main_api stayed busy ('" + error + "') for " + config.firstTokenTimeout());
            }
            if (generation.isCancelled()) {
                throw new EngineException(EngineException.Kind.REJECTED, "cancelled while main_api was busy");
            }
            sleep(config.pollInterval());
        }
    }

    private HttpResponse<String> get(String path) throws EngineException {
        return send(HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(10)).GET().build());
    }

    private HttpResponse<String> send(HttpRequest request) throws EngineException {
        try {
            return http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (ConnectException e) {
            throw new EngineException(EngineException.Kind.UNAVAILABLE, "main_api is not listening on " + base, e);
        } catch (IOException e) {
            throw new EngineException(EngineException.Kind.UNAVAILABLE, "main_api connection failed: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new EngineException(EngineException.Kind.UNAVAILABLE, "interrupted", e);
        }
    }

    private static JsonObject json(HttpResponse<String> r) throws EngineException {
        try {
            JsonElement e = JsonParser.parseString(r.body());
            if (e.isJsonObject()) {
                return e.getAsJsonObject();
            }
        } catch (RuntimeException ignored) {
            // Reported below with the body itself.
        }
        throw new EngineException(EngineException.Kind.UNAVAILABLE, "main_api sent " + r.statusCode() + " " + r.body());
    }

    private static String errorOf(String body) {
        try {
            JsonObject o = JsonParser.parseString(body).getAsJsonObject();
            return o.has("error") ? o.get("error").getAsString() : body;
        } catch (RuntimeException e) {
            return body;
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
