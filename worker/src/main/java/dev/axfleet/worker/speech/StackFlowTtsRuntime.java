package dev.axfleet.worker.speech;

import com.google.gson.Gson;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.axfleet.worker.runtime.EngineException;
import dev.axfleet.worker.runtime.Readiness;
import dev.axfleet.worker.runtime.RuntimeProcess;
import dev.axfleet.worker.runtime.RuntimeStartException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * M5Stack's StackFlow {@code llm-melotts} unit (m5stack/StackFlow@20079ff, axcl branch,
 * projects/llm_framework/main_melotts), reached through {@code llm-sys}'s TCP JSON port (10001) exactly as M5Stack's
 * OpenAI plugin reaches it (m5stack/ModuleLLM-OpenAI-Plugin@0ebfd3f client/tts_client.py, backend/tts_client_backend.py):
 * {@code setup} once with {@code response_format "pcm.stream.base64"} and {@code input "tts.utf-8"} — the model is loaded
 * then and stays until {@code exit} —, then one {@code inference} per job with the text as {@code data}. The unit splits
 * the text at its punctuation ({@code is_breakpoint}: ，、,。.!！?？;；) and answers each phrase as it is synthesised,
 * {@code {"object":"pcm.stream.base64","data":{"index","delta":base64 16-bit PCM at the mode's audio_rate,"finish"}}};
 * so the first phrase is heard before the whole text is done. What it does and this adapter relies on is docs/hardware.md
 * F49-F54:
 * <ul>
 * <li>llm-sys frames requests by counting braces, strings included ({@code zmq_bus_com::select_json_str}, which skips only a
 *     brace after a backslash): braces in the text are written {@code \u007b} and {@code \u007d}, which the unit decodes
 *     ({@code sample_unescapeString}).</li>
 * <li>The unit reads its keys with a plain search for {@code "key"} ({@code sample_json_str_get}): {@code data} is written
 *     last, after every other key.</li>
 * <li>Speed is the setup's {@code spacker_speed} (the mode file's when absent; length_scale / spacker_speed): a job at
 *     another speed makes the worker set the unit up again with the mode's speed times the job's.</li>
 * <li>The unit takes one task ({@code task_count_ = 1}: "task full" for a second), so one worker holds one voice (one mode).</li>
 * <li>A failed phrase is answered {@code {"code":-11,"message":"Model run failed."}}; the unit has no stop for a running
 *     inference: a cancelled job's remaining phrases are read and dropped (their request id is not the next job's).</li>
 * </ul>
 * llm-sys and llm-melotts are M5Stack's systemd services ({@code apt install llm-sys llm-melotts llm-model-<mode>}); the
 * worker starts a command only when given one (the emulator), and names the card's llm_melotts processes to the monitor.
 */
public final class StackFlowTtsRuntime implements SpeechRuntime {
    private static final Logger log = LoggerFactory.getLogger(StackFlowTtsRuntime.class);
    private static final Gson GSON = new Gson();

    /**
     * @param command     a command that runs llm-sys with the unit (the emulator), or empty when systemd runs them
     * @param mode        the StackFlow mode, e.g. {@code melotts-en-default-axcl} (its mode file's {@code mode})
     * @param voice       the name this model's one voice goes by
     * @param stall       how long a phrase may take before the unit counts as stalled
     * @param processName the unit's process name, to tell the monitor which card users are this worker's
     */
    public record Config(List<String> command, Map<String, String> env, String host, int port, Path workDir, Path stateDir, Duration stopGrace,
                         Duration loadGrace, Duration probeInterval, String mode, String voice, Duration stall, String processName) {
    }

    private final Config config;
    private final RuntimeProcess process;
    private Socket socket;
    private BufferedReader in;
    private OutputStream out;
    private volatile boolean emulated;
    private String workId;
    private double modeSpeed = 1.0;
    private double setSpeed = Double.NaN;
    private int sampleRate = 16_000;

    public StackFlowTtsRuntime(Config config) {
        this.config = config;
        this.process = config.command().isEmpty() ? null : new RuntimeProcess("llm_sys", config.command(), config.workDir(), config.env(),
                config.stateDir().resolve("llm_sys.pid"), config.stopGrace(), config.loadGrace());
    }

    @Override
    public String kind() {
        return "stackflow-melotts";
    }

    @Override
    public List<String> voices() {
        return List.of(config.voice());
    }

    @Override
    public int sampleRate() {
        return sampleRate;
    }

    @Override
    public synchronized void start(Duration timeout) throws RuntimeStartException {
        long deadline = System.nanoTime() + timeout.toNanos();
        if (process != null) {
            process.start();
            Readiness.await(List.of(process), this::pings, timeout, config.probeInterval());
        } else {
            waitFor(this::pings, deadline);
        }
        try {
            connect();
            JsonObject version = call("sys", "version", "None", GSON.toJsonTree("None"), Duration.ofSeconds(5));
            emulated = version.has("data") && version.get("data").toString().contains("emulator");
            JsonObject modes = call("sys", "lsmode", "None", GSON.toJsonTree("None"), Duration.ofSeconds(10));
            JsonObject mode = null;
            if (modes.has("data") && modes.get("data").isJsonArray()) {
                for (JsonElement m : modes.getAsJsonArray("data")) {
                    if (m.isJsonObject() && config.mode().equals(string(m.getAsJsonObject(), "mode"))) {
                        mode = m.getAsJsonObject();
                    }
                }
            }
            if (mode == null) {
                throw new RuntimeStartException("StackFlow lists no mode " + config.mode() + " (sys.lsmode): install it with "
                        + "`sudo apt install llm-model-" + config.mode() + "` and `sudo systemctl restart llm-sys llm-melotts`");
            }
            JsonObject param = mode.has("mode_param") && mode.get("mode_param").isJsonObject() ? mode.getAsJsonObject("mode_param") : new JsonObject();
            modeSpeed = param.has("spacker_speed") ? param.get("spacker_speed").getAsDouble() : 1.0;
            sampleRate = param.has("audio_rate") ? param.get("audio_rate").getAsInt() : 16_000;
            setup(1.0, Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
        } catch (EngineException e) {
            disconnect();
            throw new RuntimeStartException("StackFlow's melotts unit did not set up " + config.mode() + ": " + e.getMessage());
        }
        if (process != null) {
            process.markReady();
        }
        log.info("StackFlow melotts ready on {}:{} as {} ({}, {} Hz){}", config.host(), config.port(), workId, config.mode(), sampleRate,
                emulated ? " (EMULATED, not the card)" : "");
    }

    /** Loads the mode at {@code speed} times its own pace ({@code spacker_speed}, read in the setup before the mode file). */
    private void setup(double speed, Duration timeout) throws EngineException {
        if (workId != null) {
            exitUnit();
        }
        JsonObject data = new JsonObject();
        data.addProperty("model", config.mode());
        data.addProperty("response_format", "pcm.stream.base64");
        data.addProperty("input", "tts.utf-8");
        data.addProperty("enoutput", true);
        data.addProperty("spacker_speed", modeSpeed * speed);
        JsonObject r = call("melotts", "setup", "melotts.setup", data, timeout);
        workId = string(r, "work_id");
        setSpeed = speed;
    }

    private void exitUnit() {
        try {
            call(workId, "exit", "None", GSON.toJsonTree("None"), Duration.ofSeconds(10));
        } catch (EngineException e) {
            log.warn("melotts exit of {}: {}", workId, e.getMessage());
        }
        workId = null;
    }

    @Override
    public synchronized void speak(String input, String voice, double speed, Pieces pieces, BooleanSupplier cancelled) throws EngineException {
        if (socket == null || workId == null) {
            throw new EngineException(EngineException.Kind.UNAVAILABLE, "the melotts unit is not set up");
        }
        if (speed != setSpeed) {
            setup(speed, Duration.ofSeconds(60));
        }
        String id = UUID.randomUUID().toString();
        send(id, workId, "inference", "tts.utf-8", GSON.toJsonTree(input));
        while (true) {
            JsonObject m = next(id, config.stall());
            if (cancelled.getAsBoolean()) {
                return;
            }
            JsonObject error = m.has("error") && m.get("error").isJsonObject() ? m.getAsJsonObject("error") : null;
            if (error != null && error.has("code") && error.get("code").getAsInt() != 0) {
                throw new EngineException(EngineException.Kind.UNAVAILABLE, "melotts: " + string(error, "message") + " (code "
                        + error.get("code").getAsInt() + ")");
            }
            if (!m.has("data") || !m.get("data").isJsonObject()) {
                continue;
            }
            JsonObject d = m.getAsJsonObject("data");
            String delta = string(d, "delta");
            boolean finish = d.has("finish") && d.get("finish").getAsBoolean();
            pieces.piece(delta == null || delta.isEmpty() ? new byte[0] : Base64.getDecoder().decode(delta), finish);
            if (finish) {
                return;
            }
        }
    }

    /** One request and its answer (the first message with its request id); an error code is an EngineException. */
    private JsonObject call(String workIdOrUnit, String action, String object, JsonElement data, Duration timeout) throws EngineException {
        String id = UUID.randomUUID().toString();
        send(id, workIdOrUnit, action, object, data);
        JsonObject r = next(id, timeout);
        JsonObject error = r.has("error") && r.get("error").isJsonObject() ? r.getAsJsonObject("error") : null;
        if (error != null && error.has("code") && error.get("code").getAsInt() != 0) {
            throw new EngineException(EngineException.Kind.REJECTED, action + " " + workIdOrUnit + ": " + string(error, "message") + " (code "
                    + error.get("code").getAsInt() + ")");
        }
        return r;
    }

    /**
     * Writes a request with {@code data} last (the unit finds keys by searching for them) and every brace inside strings
     * escaped (llm-sys counts braces to frame requests).
     */
    private void send(String requestId, String workIdOrUnit, String action, String object, JsonElement data) throws EngineException {
        String text = "{\"request_id\":" + literal(requestId) + ",\"work_id\":" + literal(workIdOrUnit) + ",\"action\":" + literal(action)
                + ",\"object\":" + literal(object) + ",\"data\":" + escapeBraces(data) + "}";
        try {
            out.write(text.getBytes(StandardCharsets.UTF_8));
            out.flush();
        } catch (IOException | NullPointerException e) {
            disconnect();
            throw new EngineException(EngineException.Kind.UNAVAILABLE, "llm-sys connection lost: " + e.getMessage());
        }
    }

    private static String literal(String s) {
        return escapeBraces(GSON.toJsonTree(s));
    }

    /** JSON text of {@code e} with each brace inside a string written as a unicode escape (llm-sys frames by braces, F49). */
    public static String escapeBraces(JsonElement e) {
        String json = GSON.toJson(e);
        StringBuilder out = new StringBuilder(json.length());
        boolean inString = false;
        for (int i = 0; i < json.length(); i++) {
            char c = json.charAt(i);
            if (inString && c == '\\') {
                out.append(c).append(json.charAt(++i));
                continue;
            }
            if (c == '"') {
                inString = !inString;
            }
            out.append(inString && c == '{' ? "\\u007b" : inString && c == '}' ? "\\u007d" : String.valueOf(c));
        }
        return out.toString();
    }

    /**
     * The next message answering {@code requestId}; others (a cancelled job's late phrases, which the unit finishes before it
     * reads the next text) are dropped, and each one shows the unit is alive, so the wait starts again.
     */
    private JsonObject next(String requestId, Duration timeout) throws EngineException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            long left = (deadline - System.nanoTime()) / 1_000_000;
            if (left <= 0) {
                throw new EngineException(EngineException.Kind.STALLED, "llm-sys sent nothing for request " + requestId + " within " + timeout);
            }
            String line;
            try {
                socket.setSoTimeout((int) Math.min(Integer.MAX_VALUE, left));
                line = in.readLine();
            } catch (SocketTimeoutException e) {
                continue;
            } catch (IOException | NullPointerException e) {
                disconnect();
                throw new EngineException(EngineException.Kind.UNAVAILABLE, "llm-sys connection lost: " + e.getMessage());
            }
            if (line == null) {
                disconnect();
                throw new EngineException(EngineException.Kind.UNAVAILABLE, "llm-sys closed the connection");
            }
            if (line.isBlank()) {
                continue;
            }
            JsonObject m;
            try {
                m = JsonParser.parseString(line).getAsJsonObject();
            } catch (RuntimeException e) {
                log.warn("llm-sys sent a line that is no JSON object: {}", line.length() > 200 ? line.substring(0, 200) + "..." : line);
                continue;
            }
            if (requestId.equals(string(m, "request_id"))) {
                return m;
            }
            deadline = System.nanoTime() + timeout.toNanos();
        }
    }

    private void connect() throws EngineException {
        disconnect();
        try {
            Socket s = new Socket();
            s.connect(new InetSocketAddress(config.host(), config.port()), 2000);
            socket = s;
            in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8), 1 << 16);
            out = s.getOutputStream();
        } catch (IOException e) {
            throw new EngineException(EngineException.Kind.UNAVAILABLE, "llm-sys is not listening on " + config.host() + ":" + config.port()
                    + " (systemctl status llm-sys)");
        }
    }

    private void disconnect() {
        if (socket != null) {
            try {
                socket.close();
            } catch (IOException ignored) {
                // Closing anyway.
            }
        }
        socket = null;
        in = null;
        out = null;
    }

    /** {@code sys.ping} on a connection of its own: no side effect on the unit. */
    private boolean pings() {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(config.host(), config.port()), 500);
            s.setSoTimeout(2000);
            String id = UUID.randomUUID().toString();
            s.getOutputStream().write(("{\"request_id\":\"" + id + "\",\"work_id\":\"sys\",\"action\":\"ping\",\"object\":\"None\",\"data\":\"None\"}")
                    .getBytes(StandardCharsets.UTF_8));
            BufferedReader r = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
            for (int i = 0; i < 4; i++) {
                String line = r.readLine();
                if (line == null) {
                    return false;
                }
                if (!line.isBlank()) {
                    JsonObject o = JsonParser.parseString(line).getAsJsonObject();
                    return id.equals(string(o, "request_id")) && o.getAsJsonObject("error").get("code").getAsInt() == 0;
                }
            }
            return false;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    private void waitFor(BooleanSupplier ready, long deadline) throws RuntimeStartException {
        while (!ready.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new RuntimeStartException("llm-sys does not answer sys.ping on " + config.host() + ":" + config.port()
                        + ": is StackFlow installed and running (sudo apt install llm-sys llm-melotts; systemctl status llm-sys)?");
            }
            try {
                Thread.sleep(config.probeInterval().toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new RuntimeStartException("interrupted while waiting for llm-sys");
            }
        }
    }

    @Override
    public synchronized boolean healthy() {
        return (process == null || process.alive()) && socket != null && workId != null && pings();
    }

    @Override
    public synchronized void restart(String why, Duration timeout) throws RuntimeStartException {
        log.warn("restarting the melotts unit: {}", why);
        closeUnit();
        if (process != null) {
            process.stop();
        }
        start(timeout);
    }

    @Override
    public boolean emulated() {
        return emulated;
    }

    /** The process this worker started, or the card's llm_melotts processes (systemd's): the monitor must not take them for strays. */
    @Override
    public List<Long> pids() {
        if (process != null) {
            return process.alive() ? List.of(process.pid()) : List.of();
        }
        List<Long> out = new ArrayList<>();
        ProcessHandle.allProcesses().forEach(p -> {
            try {
                Path comm = Path.of("/proc", String.valueOf(p.pid()), "comm");
                if (Files.isReadable(comm) && Files.readString(comm).strip().equals(config.processName())) {
                    out.add(p.pid());
                }
            } catch (IOException | RuntimeException ignored) {
                // Gone meanwhile.
            }
        });
        return out;
    }

    private void closeUnit() {
        if (socket != null && workId != null) {
            exitUnit();
        }
        disconnect();
        setSpeed = Double.NaN;
    }

    @Override
    public synchronized void close() {
        closeUnit();
        if (process != null) {
            process.stop();
        }
    }

    private static String string(JsonObject o, String key) {
        JsonElement e = o.get(key);
        return e == null || e.isJsonNull() ? null : e.isJsonPrimitive() ? e.getAsString() : e.toString();
    }
}
