package dev.axfleet.worker.transcribe;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.axfleet.broker.audio.Wav;
import dev.axfleet.worker.runtime.EngineException;
import dev.axfleet.worker.runtime.Readiness;
import dev.axfleet.worker.runtime.RuntimeHttp;
import dev.axfleet.worker.runtime.RuntimeProcess;
import dev.axfleet.worker.runtime.RuntimeStartException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * AXERA's {@code asr_server} (AXERA-TECH/ax_asr_api@df475fe, built for the card with {@code build_ax8850_aarch64.sh}):
 * {@code asr_server --port N --model_path DIR --api_key K}, OpenAI's {@code POST /v1/audio/transcriptions} (multipart
 * {@code file} .wav or .mp3, {@code model}, {@code language}, {@code response_format} json | text | verbose_json), plus
 * {@code GET /v1/models} and {@code GET /healthz}. What it does and this adapter relies on (docs/hardware.md F44-F48):
 * <ul>
 * <li>It listens on 0.0.0.0 whatever is asked (asr_server.cpp {@code srv_.listen("0.0.0.0", port)}): it is started with
 *     an API key of its own, fresh each start, so nobody else on the network can use the card through it.</li>
 * <li>A model is loaded on its first request and kept ({@code load_asr_}); {@code /healthz} is ok before that. So the
 *     worker asks once with a second of silence before it calls the model ready: the load happens at start, not under
 *     the first visitor.</li>
 * <li>Whisper reads at most 30 s (the mel is cut to 3000 frames, whisper.cpp {@code WHISPER_FRAME_NUM}); the runner cuts
 *     at silences to fit. It gives no timestamps and decodes greedily.</li>
 * <li>{@code verbose_json} answers {@code text, model, language, request_id}: the language it resolved (en for Whisper,
 *     auto for SenseVoice by default).</li>
 * <li>Errors are OpenAI-shaped: 400 {@code invalid_request_error} naming {@code param} (an unsupported language), 404 an
 *     unknown model, 413 past {@code --payload_limit_mb}, 500 "Model initialization failed on server side." or
 *     "Transcription failed on server side." (AX_ASR_RunFile failed).</li>
 * </ul>
 */
public final class AsrServerRuntime implements TranscribeRuntime {
    private static final Logger log = LoggerFactory.getLogger(AsrServerRuntime.class);
    private static final SecureRandom RANDOM = new SecureRandom();
    /** What ax_asr_api resamples every input to (sensevoice.cpp and whisper.cpp: 16000). */
    static final int SAMPLE_RATE = 16_000;

    /**
     * @param command       the command line, {@code {port}} and {@code {api_key}} filled in
     * @param asrModel      the model name asr_server knows ({@code sensevoice}, {@code whisper_tiny} ... {@code whisper_turbo})
     * @param callTimeout   how long one piece of audio may take
     * @param windowSeconds the longest piece one request carries
     */
    public record Config(List<String> command, Map<String, String> env, int port, Path workDir, Path stateDir, Duration stopGrace,
                         Duration loadGrace, Duration probeInterval, String asrModel, Duration callTimeout, double windowSeconds) {
    }

    private final Config config;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(2)).build();
    private final URI base;
    private final String apiKey;
    private final RuntimeProcess process;
    private volatile boolean emulated;

    public AsrServerRuntime(Config config) {
        this.config = config;
        this.base = URI.create("http://127.0.0.1:" + config.port());
        byte[] key = new byte[16];
        RANDOM.nextBytes(key);
        this.apiKey = HexFormat.of().formatHex(key);
        List<String> command = config.command().stream().map(a -> a.replace("{api_key}", apiKey)).toList();
        this.process = new RuntimeProcess("asr_server", command, config.workDir(), config.env(), config.stateDir().resolve("asr_server.pid"),
                config.stopGrace(), config.loadGrace());
        process.onLine(line -> {
            if (line.startsWith("EMULATOR:")) {
                emulated = true;
            }
        });
    }

    @Override
    public String kind() {
        return "asr-server";
    }

    @Override
    public int sampleRate() {
        return SAMPLE_RATE;
    }

    @Override
    public double windowSeconds() {
        return config.windowSeconds();
    }

    @Override
    public void start(Duration timeout) throws RuntimeStartException {
        long deadline = System.nanoTime() + timeout.toNanos();
        process.start();
        Readiness.await(List.of(process), this::answersHealth, timeout, config.probeInterval());
        JsonObject models = getJson("/v1/models");
        JsonArray data = models == null ? null : models.getAsJsonArray("data");
        boolean listed = false;
        if (data != null) {
            for (JsonElement m : data) {
                JsonObject o = m.getAsJsonObject();
                listed |= config.asrModel().equals(o.get("id").getAsString());
                emulated |= o.has("owned_by") && o.get("owned_by").getAsString().contains("emulator");
            }
        }
        if (!listed) {
            throw new RuntimeStartException("asr_server does not list model " + config.asrModel() + " in /v1/models (it knows sensevoice, "
                    + "whisper_tiny, whisper_base, whisper_small, whisper_turbo): check runtime.asr_model");
        }
        // The model loads on its first request (asr_server.cpp load_asr_): make that happen now.
        Duration left = Duration.ofNanos(Math.max(1, deadline - System.nanoTime()));
        try {
            transcribe(Wav.write16(new float[SAMPLE_RATE], SAMPLE_RATE), null, left);
        } catch (EngineException e) {
            throw new RuntimeStartException("asr_server did not load " + config.asrModel() + " from " + config.workDir() + ": " + e.getMessage()
                    + "; last output:\n" + process.recentOutput());
        }
        process.markReady();
        log.info("asr_server ready on {} with model {}{}", base, config.asrModel(), emulated ? " (EMULATED, not the card)" : "");
    }

    @Override
    public Heard transcribe(byte[] wav, String language) throws EngineException {
        return transcribe(wav, language, config.callTimeout());
    }

    private Heard transcribe(byte[] wav, String language, Duration timeout) throws EngineException {
        String boundary = "axfleet" + Long.toHexString(RANDOM.nextLong());
        ByteArrayOutputStream body = new ByteArrayOutputStream(wav.length + 1024);
        part(body, boundary, "model", null, config.asrModel().getBytes(StandardCharsets.UTF_8));
        if (language != null) {
            part(body, boundary, "language", null, language.getBytes(StandardCharsets.UTF_8));
        }
        part(body, boundary, "response_format", null, "verbose_json".getBytes(StandardCharsets.UTF_8));
        // The server keeps .wav and .mp3 only, by the file name's extension (is_supported_audio_extension).
        part(body, boundary, "file", "audio.wav", wav);
        body.writeBytes(("--" + boundary + "--\r\n").getBytes(StandardCharsets.ISO_8859_1));
        HttpRequest request = HttpRequest.newBuilder(base.resolve("/v1/audio/transcriptions")).timeout(timeout)
                .header("Authorization", "Bearer " + apiKey)
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray())).build();
        HttpResponse<String> r = RuntimeHttp.send(http, request, HttpResponse.BodyHandlers.ofString(), "asr_server", base,
                "did not answer within " + timeout);
        JsonObject o;
        try {
            o = JsonParser.parseString(r.body()).getAsJsonObject();
        } catch (RuntimeException e) {
            throw new EngineException(EngineException.Kind.UNAVAILABLE, "asr_server answered " + r.statusCode() + " with no JSON object");
        }
        if (r.statusCode() != 200) {
            JsonObject error = o.has("error") && o.get("error").isJsonObject() ? o.getAsJsonObject("error") : new JsonObject();
            String message = error.has("message") ? error.get("message").getAsString() : r.body();
            String param = error.has("param") ? error.get("param").getAsString() : "";
            if (r.statusCode() == 400 || r.statusCode() == 413) {
                String field = switch (param) {
                    case "language" -> "params.language";
                    case "file" -> "params.audio";
                    default -> null;
                };
                throw new EngineException(EngineException.Kind.REJECTED, "asr_server: " + message, field);
            }
            // 500 is AX_ASR_RunFile or AX_ASR_Init failing: the card, or a handle in a bad state; a fresh process may help.
            throw new EngineException(EngineException.Kind.UNAVAILABLE, "asr_server answered " + r.statusCode() + ": " + message);
        }
        String text = o.has("text") && !o.get("text").isJsonNull() ? o.get("text").getAsString() : "";
        String heardLanguage = o.has("language") && !o.get("language").isJsonNull() ? o.get("language").getAsString() : language;
        return new Heard(text, heardLanguage);
    }

    private static void part(ByteArrayOutputStream out, String boundary, String name, String filename, byte[] value) {
        String head = "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + name + "\""
                + (filename == null ? "" : "; filename=\"" + filename + "\"\r\nContent-Type: audio/wav") + "\r\n\r\n";
        out.writeBytes(head.getBytes(StandardCharsets.ISO_8859_1));
        out.writeBytes(value);
        out.writeBytes("\r\n".getBytes(StandardCharsets.ISO_8859_1));
    }

    private boolean answersHealth() {
        JsonObject o = getJson("/healthz");
        return o != null && o.has("status") && "ok".equals(o.get("status").getAsString());
    }

    private JsonObject getJson(String path) {
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(5))
                    .header("Authorization", "Bearer " + apiKey).GET().build(), HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 ? JsonParser.parseString(r.body()).getAsJsonObject() : null;
        } catch (IOException | RuntimeException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    @Override
    public boolean healthy() {
        return process.alive() && answersHealth();
    }

    @Override
    public void restart(String why, Duration timeout) throws RuntimeStartException {
        log.warn("restarting asr_server: {}", why);
        process.stop();
        start(timeout);
    }

    @Override
    public boolean emulated() {
        return emulated;
    }

    /** The last lines asr_server wrote (its log). */
    public String recentOutput() {
        return process.recentOutput();
    }

    /** Where it listens: {@code http://127.0.0.1:port}. */
    public URI base() {
        return base;
    }

    /**
     * The files asr_server opens under {@code --model_path} for {@code asrModel} (ax_asr_api@df475fe asr_factory.hpp: a
     * folder {@code whisper/SIZE/} or {@code sensevoice/}; whisper.cpp {@code init}: {@code SIZE-encoder.axmodel},
     * {@code SIZE-decoder.axmodel}, {@code SIZE-tokens.txt}, {@code SIZE_config.json}; sensevoice.cpp {@code init}:
     * {@code sensevoice.axmodel}, {@code tokens.txt}), relative to it.
     */
    public static List<Path> modelFiles(String asrModel) {
        if (asrModel.equals("sensevoice")) {
            return List.of(Path.of("sensevoice", "sensevoice.axmodel"), Path.of("sensevoice", "tokens.txt"));
        }
        String size = asrModel.replaceFirst("^whisper_", "");
        Path d = Path.of("whisper", size);
        return List.of(d.resolve(size + "-encoder.axmodel"), d.resolve(size + "-decoder.axmodel"), d.resolve(size + "-tokens.txt"),
                d.resolve(size + "_config.json"));
    }

    @Override
    public List<Long> pids() {
        return process.alive() ? List.of(process.pid()) : List.of();
    }

    @Override
    public void close() {
        process.stop();
    }
}
