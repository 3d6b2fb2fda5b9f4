package dev.axfleet.gateway.transcribe;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.axfleet.broker.FieldException;
import dev.axfleet.broker.JobResult;
import dev.axfleet.broker.Kind;
import dev.axfleet.broker.transcribe.TranscribeCodec;
import dev.axfleet.broker.transcribe.TranscribeParams;
import dev.axfleet.broker.transcribe.Transcript;
import dev.axfleet.gateway.ApiException;
import dev.axfleet.gateway.JobRunner;
import dev.axfleet.gateway.Json;
import dev.axfleet.gateway.ModelRegistry;
import dev.axfleet.gateway.audio.AudioUpload;
import dev.axfleet.gateway.audio.Ffmpeg;
import dev.axfleet.gateway.openai.OpenAiFacade;
import jakarta.servlet.MultipartConfigElement;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.Part;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.eclipse.jetty.ee10.servlet.ServletContextRequest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import spark.Request;
import spark.Response;
import spark.Service;

/**
 * OpenAI's {@code POST /v1/audio/transcriptions} (multipart, openai-node resources/audio/transcriptions.ts): {@code file}
 * (WAV read in Java; MP3, Ogg/Opus, WebM, M4A... through ffmpeg), {@code model}, {@code language}, {@code
 * response_format} json (the default) | text | srt | vtt | verbose_json, with segment timestamps from the worker's cuts at
 * silences. What the runtime (ax_asr_api's asr_server) cannot do is refused with a 400 naming the field, never ignored:
 * {@code prompt}, a {@code temperature} other than 0, word timestamps, {@code stream}, {@code include}, a chunking strategy
 * of the caller's own; and {@code POST /v1/audio/translations} altogether (asr_server serves no translation and its Whisper
 * decodes with the transcribe task only). OpenAI's own model names (whisper-1, gpt-4o-transcribe...) mean the first
 * transcription model here, as asr_server takes them as aliases.
 */
public final class TranscriptionsFacade {
    private static final Logger log = LoggerFactory.getLogger(TranscriptionsFacade.class);
    /** OpenAI's limit on an uploaded file ("File uploads are currently limited to 25 MB"). */
    public static final long MAX_UPLOAD_BYTES = 25L << 20;
    static final List<String> OPENAI_MODELS = List.of("whisper-1", "gpt-4o-transcribe", "gpt-4o-mini-transcribe", "gpt-4o-transcribe-diarize");
    private static final List<String> FORMATS = List.of("json", "text", "srt", "vtt", "verbose_json");

    private final JobRunner runner;
    private final ModelRegistry registry;

    public TranscriptionsFacade(JobRunner runner, ModelRegistry registry) {
        this.runner = runner;
        this.registry = registry;
    }

    public void register(Service http) {
        http.post("/v1/audio/transcriptions", this::transcriptions);
        http.post("/v1/audio/translations", this::translations);
    }

    private Object translations(Request req, Response res) {
        return refused(req, res, ApiException.badRequest(null, "translations are not served: asr_server (ax_asr_api) has no translation route "
                + "and its Whisper decodes with the transcribe task only; transcribe with /v1/audio/transcriptions"));
    }

    private Object transcriptions(Request req, Response res) {
        try {
            Map<String, List<Part>> form = form(req);
            String name = field(form, "model");
            if (name == null || name.isBlank()) {
                throw ApiException.badRequest("model", "required");
            }
            String model = model(name);
            refuseWhatTheRuntimeCannotDo(form);
            String format = field(form, "response_format");
            format = format == null || format.isBlank() ? "json" : format.trim().toLowerCase(Locale.ROOT);
            if (!FORMATS.contains(format)) {
                throw ApiException.badRequest("response_format", "must be one of " + String.join(", ", FORMATS) + ", not " + format);
            }
            List<String> granularities = values(form, "timestamp_granularities[]");
            granularities.addAll(values(form, "timestamp_granularities"));
            for (String g : granularities) {
                if (g.equals("word")) {
                    throw ApiException.badRequest("timestamp_granularities", "word timestamps are not served: the runtime gives no "
                            + "timestamps; segment timestamps come from where axfleet cut the audio at silences");
                }
                if (!g.equals("segment")) {
                    throw ApiException.badRequest("timestamp_granularities", "must be segment or word, not " + g);
                }
            }
            Part file = first(form, "file");
            if (file == null || file.getSubmittedFileName() == null) {
                throw ApiException.badRequest("file", "required: the audio file, as a multipart file part");
            }
            byte[] audio;
            try (var in = file.getInputStream()) {
                audio = in.readAllBytes();
            }
            String language = TranscribeCodec.language(dev.axfleet.broker.JsonFields.of(languageObject(field(form, "language"))), "language");
            byte[] wav;
            try {
                wav = AudioUpload.toJobWav(audio, file.getSubmittedFileName());
            } catch (Ffmpeg.Unavailable e) {
                throw switch (e.why()) {
                    case MISSING -> new ApiException(415, "only WAV is read here: " + e.getMessage(), "file", "unsupported_media_type", Map.of());
                    case BUSY -> ApiException.busy(e.getMessage(), 5);
                    case TOO_SLOW -> ApiException.badRequest("file", "could not be decoded: " + e.getMessage());
                };
            }
            JobResult r = runner.callShared(model, new TranscribeParams(wav, language), req);
            Transcript t = r.output(Transcript.class);
            return respond(res, format, t);
        } catch (FieldException e) {
            return refused(req, res, ApiException.badRequest(e.field(), e.getMessage()));
        } catch (ApiException e) {
            return refused(req, res, e);
        } catch (IOException e) {
            return refused(req, res, ApiException.badRequest("file", "could not be read: " + e.getMessage()));
        }
    }

    private static JsonObject languageObject(String language) {
        JsonObject o = new JsonObject();
        if (language != null) {
            o.addProperty("language", language);
        }
        return o;
    }

    /** A name for the transcription model: its own, an alias, or one of OpenAI's transcription models (the first here). */
    private String model(String name) throws ApiException {
        ModelRegistry.Resolution r = registry.resolve(Kind.TRANSCRIPTION, name);
        if (r instanceof ModelRegistry.NotFound && OPENAI_MODELS.contains(name) && !registry.modelsOf(Kind.TRANSCRIPTION).isEmpty()) {
            String model = registry.modelsOf(Kind.TRANSCRIPTION).get(0);
            log.info("model {} (OpenAI's) is served by {}", name, model);
            return model;
        }
        return runner.model(Kind.TRANSCRIPTION, name);
    }

    private static void refuseWhatTheRuntimeCannotDo(Map<String, List<Part>> form) throws ApiException, IOException {
        String prompt = field(form, "prompt");
        if (prompt != null && !prompt.isBlank()) {
            throw ApiException.badRequest("prompt", "not served: asr_server reads no prompt (ax_asr_api cpp/server/asr_server.cpp)");
        }
        String temperature = field(form, "temperature");
        if (temperature != null && !temperature.isBlank()) {
            double t;
            try {
                t = Double.parseDouble(temperature.trim());
            } catch (NumberFormatException e) {
                throw ApiException.badRequest("temperature", "must be a number");
            }
            if (t != 0) {
                throw ApiException.badRequest("temperature", "not served: the runtime decodes greedily (temperature 0) only");
            }
        }
        String stream = field(form, "stream");
        if (stream != null && stream.trim().equalsIgnoreCase("true")) {
            throw ApiException.badRequest("stream", "not served: the runtime answers each piece of audio whole; ask without stream");
        }
        if (!values(form, "include[]").isEmpty() || field(form, "include") != null) {
            throw ApiException.badRequest("include", "not served: the runtime gives no log probabilities");
        }
        String chunking = field(form, "chunking_strategy");
        if (chunking != null && !chunking.isBlank() && !chunking.trim().equals("auto")) {
            throw ApiException.badRequest("chunking_strategy", "only auto is served: axfleet cuts at silences with its own voice-activity detector");
        }
        for (String unserved : List.of("known_speaker_names[]", "known_speaker_references[]", "keywords[]", "languages[]")) {
            if (!values(form, unserved).isEmpty()) {
                throw ApiException.badRequest(unserved.replace("[]", ""), "not served by the runtime");
            }
        }
    }

    static Object respond(Response res, String format, Transcript t) {
        return switch (format) {
            case "text" -> plain(res, "text/plain; charset=utf-8", t.text() + "\n");
            case "srt" -> plain(res, "application/x-subrip; charset=utf-8", srt(t));
            case "vtt" -> plain(res, "text/vtt; charset=utf-8", vtt(t));
            case "verbose_json" -> Json.respond(res, verbose(t));
            default -> {
                JsonObject o = new JsonObject();
                o.addProperty("text", t.text());
                o.add("usage", usage(t));
                yield Json.respond(res, o);
            }
        };
    }

    private static JsonObject usage(Transcript t) {
        JsonObject u = new JsonObject();
        u.addProperty("type", "duration");
        u.addProperty("seconds", (long) Math.ceil(t.duration()));
        return u;
    }

    /** OpenAI's TranscriptionVerbose: the numbers the runtime does not give (log probabilities, tokens) are left out. */
    static JsonObject verbose(Transcript t) {
        JsonObject o = new JsonObject();
        o.addProperty("task", "transcribe");
        o.addProperty("language", t.language());
        o.addProperty("duration", t.duration());
        o.addProperty("text", t.text());
        JsonArray segments = new JsonArray();
        for (int i = 0; i < t.segments().size(); i++) {
            Transcript.Segment s = t.segments().get(i);
            JsonObject j = new JsonObject();
            j.addProperty("id", i);
            j.addProperty("seek", Math.round(s.start() * 100));
            j.addProperty("start", s.start());
            j.addProperty("end", s.end());
            j.addProperty("text", s.text());
            j.add("tokens", new JsonArray());
            j.addProperty("temperature", 0.0);
            segments.add(j);
        }
        o.add("segments", segments);
        o.add("usage", usage(t));
        return o;
    }

    static String srt(Transcript t) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < t.segments().size(); i++) {
            Transcript.Segment s = t.segments().get(i);
            out.append(i + 1).append('\n').append(time(s.start(), ',')).append(" --> ").append(time(s.end(), ',')).append('\n')
                    .append(s.text()).append("\n\n");
        }
        return out.toString();
    }

    static String vtt(Transcript t) {
        StringBuilder out = new StringBuilder("WEBVTT\n\n");
        for (Transcript.Segment s : t.segments()) {
            out.append(time(s.start(), '.')).append(" --> ").append(time(s.end(), '.')).append('\n').append(s.text()).append("\n\n");
        }
        return out.toString();
    }

    /** HH:MM:SS,mmm (SubRip) or HH:MM:SS.mmm (WebVTT). */
    static String time(double seconds, char separator) {
        long ms = Math.round(seconds * 1000);
        return String.format(Locale.ROOT, "%02d:%02d:%02d%c%03d", ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, separator, ms % 1000);
    }

    private static String plain(Response res, String type, String body) {
        res.status(200);
        res.type(type);
        res.raw().setContentLength(body.getBytes(StandardCharsets.UTF_8).length);
        return body;
    }

    /** The multipart form, bounded by OpenAI's upload limit (413 past it); 400 when the body is not one. */
    private static Map<String, List<Part>> form(Request req) throws ApiException {
        String type = req.contentType();
        if (type == null || !type.toLowerCase(Locale.ROOT).startsWith("multipart/form-data")) {
            throw ApiException.badRequest(null, "the body must be multipart/form-data with the audio as its file part");
        }
        if (req.raw().getContentLengthLong() > MAX_UPLOAD_BYTES) {
            throw tooLarge();
        }
        req.raw().setAttribute(ServletContextRequest.MULTIPART_CONFIG_ELEMENT,
                new MultipartConfigElement(System.getProperty("java.io.tmpdir"), MAX_UPLOAD_BYTES, MAX_UPLOAD_BYTES + (1 << 20), 1 << 20));
        try {
            Map<String, List<Part>> out = new HashMap<>();
            for (Part p : req.raw().getParts()) {
                out.computeIfAbsent(p.getName(), k -> new ArrayList<>()).add(p);
            }
            return out;
        } catch (IllegalStateException e) {
            throw tooLarge();
        } catch (IOException | ServletException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            if (String.valueOf(cause.getMessage()).contains("exceeds")) {
                throw tooLarge();
            }
            throw ApiException.badRequest(null, "the multipart body could not be read: " + cause.getMessage());
        }
    }

    private static ApiException tooLarge() {
        return new ApiException(413, "the upload is larger than " + MAX_UPLOAD_BYTES + " bytes (OpenAI's 25 MB)", "file", "request_too_large", Map.of());
    }

    private static Part first(Map<String, List<Part>> form, String name) {
        List<Part> parts = form.get(name);
        return parts == null || parts.isEmpty() ? null : parts.get(0);
    }

    private static String field(Map<String, List<Part>> form, String name) throws IOException {
        Part p = first(form, name);
        return p == null ? null : text(p);
    }

    private static List<String> values(Map<String, List<Part>> form, String name) throws IOException {
        List<String> out = new ArrayList<>();
        for (Part p : form.getOrDefault(name, List.of())) {
            out.add(text(p).trim());
        }
        return out;
    }

    private static String text(Part p) throws IOException {
        try (var in = p.getInputStream()) {
            return new String(in.readNBytes(64 << 10), StandardCharsets.UTF_8);
        }
    }

    private static String refused(Request req, Response res, ApiException refusal) {
        // A worker names a job's field (params.language); the request's field is the same without the prefix.
        ApiException e = refusal.param() != null && refusal.param().startsWith("params.")
                ? new ApiException(refusal.status(), refusal.getMessage(), refusal.param().substring("params.".length()), refusal.code(),
                refusal.headers()) : refusal;
        log.info("{} {} refused: {} {}", req.requestMethod(), req.pathInfo(), e.status(), e.getMessage());
        return OpenAiFacade.error(res, e);
    }
}
