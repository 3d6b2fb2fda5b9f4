package dev.axfleet.gateway.speech;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.axfleet.broker.FieldException;
import dev.axfleet.broker.JobResult;
import dev.axfleet.broker.JsonFields;
import dev.axfleet.broker.Kind;
import dev.axfleet.broker.WorkerState;
import dev.axfleet.broker.audio.Wav;
import dev.axfleet.broker.chat.TokenEstimate;
import dev.axfleet.broker.speech.SpeechCodec;
import dev.axfleet.broker.speech.SpeechParams;
import dev.axfleet.broker.speech.Voices;
import dev.axfleet.gateway.ApiException;
import dev.axfleet.gateway.Bodies;
import dev.axfleet.gateway.Caller;
import dev.axfleet.gateway.GatewayConfig;
import dev.axfleet.gateway.JobRunner;
import dev.axfleet.gateway.Json;
import dev.axfleet.gateway.ModelRegistry;
import dev.axfleet.gateway.RequestLog;
import dev.axfleet.gateway.audio.Ffmpeg;
import dev.axfleet.gateway.openai.OpenAiFacade;
import jakarta.servlet.http.HttpServletResponse;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import spark.Request;
import spark.Response;
import spark.Service;

/**
 * OpenAI's {@code POST /v1/audio/speech} (openai-node resources/audio/speech.ts): {@code model}, {@code input} (at most
 * 4096 characters), {@code voice} (the model's own, or an OpenAI name mapped onto them; another gets a 400 listing both),
 * {@code response_format} mp3 (the default) | opus | aac | flac | wav | pcm, {@code speed} 0.25-4, {@code stream_format}
 * audio (the default) | sse. The audio streams as the runtime speaks it, phrase by phrase: pcm as it arrives (24 kHz
 * 16-bit little-endian mono, as OpenAI's), mp3, opus (Ogg), aac (ADTS) and flac through an ffmpeg encoder fed as it comes,
 * wav whole (its header holds its length); with sse, {@code speech.audio.delta} events then {@code speech.audio.done}.
 * {@code instructions} and custom voices are refused (the runtime takes neither). {@code GET /v1/audio/voices} lists each
 * speech model's voices and the OpenAI names that mean them. OpenAI's own model names (tts-1...) mean the first speech model.
 */
public final class SpeechFacade {
    private static final Logger log = LoggerFactory.getLogger(SpeechFacade.class);
    /** OpenAI's pcm: "24kHz (16-bit signed, low-endian), without the header"; every format is made at it. */
    static final int RATE = 24_000;
    static final List<String> FORMATS = List.of("mp3", "opus", "aac", "flac", "wav", "pcm");
    static final List<String> OPENAI_MODELS = List.of("tts-1", "tts-1-hd", "gpt-4o-mini-tts", "gpt-4o-mini-tts-2025-12-15");
    /** Each message of the job carries up to this much audio: a phrase or so, sent on as soon as it comes. */
    static final int CHUNK_BYTES = 64 << 10;

    private final JobRunner runner;
    private final ModelRegistry registry;
    private final GatewayConfig config;

    public SpeechFacade(JobRunner runner, ModelRegistry registry, GatewayConfig config) {
        this.runner = runner;
        this.registry = registry;
        this.config = config;
    }

    public void register(Service http) {
        http.post("/v1/audio/speech", this::speech);
        http.get("/v1/audio/voices", this::voices);
    }

    /** What was asked, checked. */
    private record Asked(String model, SpeechParams params, String format, boolean sse) {
    }

    private Asked asked(Request req) throws ApiException, FieldException {
        JsonFields f = JsonFields.of(Bodies.json(req, config.maxBodyBytes()));
        String name = f.optString("model", 1, 256);
        if (name == null) {
            throw new FieldException("model", "required");
        }
        String model = model(name);
        String input = SpeechCodec.input(f, "input");
        JsonElement v = f.get("voice");
        if (v != null && !(v.isJsonPrimitive() && v.getAsJsonPrimitive().isString())) {
            throw new FieldException("voice", "custom voices are not served: name one of " + Voices.known(voices(model)));
        }
        String voice = f.optString("voice", 1, 64);
        List<String> own = voices(model);
        if (!own.isEmpty()) {
            String asked = voice;
            voice = Voices.resolve(voice, own).orElseThrow(() -> new FieldException("voice", "unknown voice '" + asked + "'; " + model
                    + " speaks " + Voices.known(own)));
        }
        String instructions = f.optString("instructions", 0, 4096);
        if (instructions != null && !instructions.isBlank()) {
            throw new FieldException("instructions", "not served: MeloTTS through StackFlow takes no instructions");
        }
        String format = f.optString("response_format", 1, 16);
        format = format == null ? "mp3" : format.toLowerCase(Locale.ROOT);
        if (!FORMATS.contains(format)) {
            throw new FieldException("response_format", "must be one of " + String.join(", ", FORMATS) + ", not " + format);
        }
        String streamFormat = f.optString("stream_format", 1, 16);
        if (streamFormat != null && !streamFormat.equals("audio") && !streamFormat.equals("sse")) {
            throw new FieldException("stream_format", "must be audio or sse");
        }
        double speed = SpeechCodec.speed(f, "speed");
        return new Asked(model, new SpeechParams(input, voice, speed, SpeechParams.Format.PCM, RATE, CHUNK_BYTES), format, "sse".equals(streamFormat));
    }

    private String model(String name) throws ApiException {
        if (registry.resolve(Kind.SPEECH, name) instanceof ModelRegistry.NotFound && OPENAI_MODELS.contains(name)
                && !registry.modelsOf(Kind.SPEECH).isEmpty()) {
            String model = registry.modelsOf(Kind.SPEECH).get(0);
            log.info("model {} (OpenAI's) is served by {}", name, model);
            return model;
        }
        return runner.model(Kind.SPEECH, name);
    }

    /** The model's voices as its workers announced them (empty while none has). */
    private List<String> voices(String model) {
        Set<String> out = new LinkedHashSet<>();
        for (WorkerState w : registry.workersByModel().getOrDefault(model, List.of())) {
            if (w.phase() != WorkerState.Phase.OFFLINE) {
                out.addAll(w.voices());
            }
        }
        return new ArrayList<>(out);
    }

    private Object voices(Request req, Response res) {
        JsonArray data = new JsonArray();
        for (String model : registry.modelsOf(Kind.SPEECH)) {
            List<String> own = voices(model);
            for (String v : own) {
                JsonObject o = new JsonObject();
                o.addProperty("id", v);
                o.addProperty("object", "audio.voice");
                o.addProperty("name", v);
                o.addProperty("model", model);
                JsonArray names = new JsonArray();
                Voices.openAiNamesOf(v, own).forEach(names::add);
                o.add("openai_voices", names);
                data.add(o);
            }
        }
        JsonObject o = new JsonObject();
        o.addProperty("object", "list");
        o.add("data", data);
        return Json.respond(res, o);
    }

    private Object speech(Request req, Response res) {
        Asked a;
        try {
            a = asked(req);
        } catch (FieldException e) {
            return refused(req, res, ApiException.badRequest(e.field(), e.getMessage()));
        } catch (ApiException e) {
            return refused(req, res, e);
        }
        AudioOut out = new AudioOut(res.raw(), a.sse() ? "text/event-stream" : contentType(a.format()), registry.emulated(a.model()));
        Caller caller = Caller.of(req);
        Process encoder = null;
        Thread pump = null;
        ByteArrayOutputStream whole = new ByteArrayOutputStream();
        try {
            JobRunner.AudioSink sink;
            if (a.format().equals("pcm") || a.format().equals("wav")) {
                boolean[] header = {false};
                sink = pcm -> {
                    if (a.format().equals("wav") && !a.sse()) {
                        whole.writeBytes(pcm);
                        return;
                    }
                    if (a.format().equals("wav") && !header[0]) {
                        header[0] = true;
                        out.audio(Wav.header(-1, RATE), a.sse());
                    }
                    out.audio(pcm, a.sse());
                };
            } else {
                encoder = Ffmpeg.encoder(a.format(), RATE);
                Process p = encoder;
                pump = new Thread(() -> copy(p.getInputStream(), out, a.sse()), "speech-encoder-out");
                pump.setDaemon(true);
                pump.start();
                OutputStream toEncoder = p.getOutputStream();
                sink = pcm -> {
                    if (out.failed()) {
                        throw new IOException("the client went away");
                    }
                    toEncoder.write(pcm);
                    toEncoder.flush();
                };
            }
            JobRunner.AudioSink withGone = new JobRunner.AudioSink() {
                @Override
                public void audio(byte[] bytes) throws IOException {
                    sink.audio(bytes);
                }

                @Override
                public void idle() throws IOException {
                    if (a.sse()) {
                        out.comment();
                    }
                }

                @Override
                public boolean gone() {
                    return caller.gone();
                }
            };
            JobResult r = runner.streamAudio(a.model(), a.params(), withGone, RequestLog.of(req));
            if (r == null) {
                return "";
            }
            if (encoder != null) {
                encoder.getOutputStream().close();
                pump.join(30_000);
            }
            if (a.format().equals("wav") && !a.sse()) {
                byte[] wav = Wav.withHeader(whole.toByteArray(), RATE);
                res.raw().setContentLength(wav.length);
                out.audio(wav, false);
            }
            if (a.sse()) {
                JsonObject done = new JsonObject();
                done.addProperty("type", "speech.audio.done");
                JsonObject usage = new JsonObject();
                int tokens = TokenEstimate.of(a.params().input());
                usage.addProperty("input_tokens", tokens);
                usage.addProperty("output_tokens", 0);
                usage.addProperty("total_tokens", tokens);
                done.add("usage", usage);
                out.event(done);
            }
            out.end();
            return "";
        } catch (ApiException e) {
            if (!out.started()) {
                return refused(req, res, e);
            }
            log.info("{} {} failed after its audio began: {} {}", req.requestMethod(), req.pathInfo(), e.status(), e.getMessage());
            if (a.sse()) {
                out.eventQuietly(OpenAiFacade.errorBody(e));
            } else {
                out.abort();
            }
            return "";
        } catch (Ffmpeg.Unavailable e) {
            return refused(req, res, e.why() == Ffmpeg.Unavailable.Why.MISSING
                    ? new ApiException(400, "response_format " + a.format() + " needs ffmpeg, which is not installed here (sudo apt install ffmpeg); "
                    + "ask for wav or pcm", "response_format", "unsupported_format", Map.of())
                    : ApiException.busy(e.getMessage(), 5));
        } catch (IOException e) {
            log.info("{} {}: the client went away ({})", req.requestMethod(), req.pathInfo(), e.getMessage());
            return "";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "";
        } finally {
            if (encoder != null) {
                encoder.destroy();
            }
        }
    }

    private static void copy(InputStream in, AudioOut out, boolean sse) {
        byte[] buf = new byte[16 << 10];
        try (in) {
            int n;
            while ((n = in.read(buf)) > 0) {
                out.audio(java.util.Arrays.copyOf(buf, n), sse);
            }
        } catch (IOException e) {
            out.fail();
        }
    }

    static String contentType(String format) {
        return switch (format) {
            case "mp3" -> "audio/mpeg";
            case "opus" -> "audio/ogg";
            case "aac" -> "audio/aac";
            case "flac" -> "audio/flac";
            case "wav" -> "audio/wav";
            default -> "audio/pcm";
        };
    }

    private static String refused(Request req, Response res, ApiException refusal) {
        // A worker names a job's field (params.language); the request's field is the same without the prefix.
        ApiException e = refusal.param() != null && refusal.param().startsWith("params.")
                ? new ApiException(refusal.status(), refusal.getMessage(), refusal.param().substring("params.".length()), refusal.code(),
                refusal.headers()) : refusal;
        log.info("{} {} refused: {} {}", req.requestMethod(), req.pathInfo(), e.status(), e.getMessage());
        return OpenAiFacade.error(res, e);
    }

    /**
     * The response body, committed at its first write so an error before any audio still gets its status; writes from the
     * encoder's thread and the job's are one at a time. A write that fails marks the client gone.
     */
    static final class AudioOut {
        private final HttpServletResponse raw;
        private final String contentType;
        private final boolean emulated;
        private OutputStream out;
        private volatile boolean failed;

        AudioOut(HttpServletResponse raw, String contentType, boolean emulated) {
            this.raw = raw;
            this.contentType = contentType;
            this.emulated = emulated;
        }

        synchronized boolean started() {
            return out != null;
        }

        boolean failed() {
            return failed;
        }

        void fail() {
            failed = true;
        }

        private OutputStream stream() throws IOException {
            if (out == null) {
                raw.setStatus(200);
                raw.setContentType(contentType);
                raw.setHeader("Cache-Control", "no-cache");
                raw.setHeader("X-Accel-Buffering", "no");
                if (emulated) {
                    raw.setHeader("X-Axfleet-Emulated", "true: no AX650 card; tone bursts, not speech");
                }
                out = raw.getOutputStream();
            }
            return out;
        }

        synchronized void audio(byte[] bytes, boolean sse) throws IOException {
            if (sse) {
                JsonObject delta = new JsonObject();
                delta.addProperty("type", "speech.audio.delta");
                delta.addProperty("audio", Base64.getEncoder().encodeToString(bytes));
                event(delta);
                return;
            }
            try {
                OutputStream o = stream();
                o.write(bytes);
                o.flush();
            } catch (IOException e) {
                failed = true;
                throw e;
            }
        }

        synchronized void event(JsonObject o) throws IOException {
            OutputStream s = stream();
            s.write(("data: " + o + "\n\n").getBytes(StandardCharsets.UTF_8));
            s.flush();
        }

        synchronized void eventQuietly(JsonObject o) {
            try {
                event(o);
            } catch (IOException ignored) {
                // The client has gone.
            }
        }

        synchronized void comment() throws IOException {
            OutputStream s = stream();
            s.write(": keep-alive\n\n".getBytes(StandardCharsets.UTF_8));
            s.flush();
        }

        synchronized void end() throws IOException {
            stream().flush();
        }

        /** Cuts the connection: a client reading audio sees it end short rather than a wrong tail. */
        synchronized void abort() {
            try {
                raw.sendError(500);
            } catch (IOException | IllegalStateException e) {
                failed = true;
            }
        }
    }
}
