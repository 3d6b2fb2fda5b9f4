package dev.axfleet.broker.voice;

import com.google.gson.JsonObject;
import dev.axfleet.broker.FieldException;
import dev.axfleet.broker.JsonFields;
import dev.axfleet.broker.Topics;
import dev.axfleet.broker.speech.SpeechCodec;
import dev.axfleet.broker.speech.SpeechParams;
import dev.axfleet.broker.transcribe.TranscribeCodec;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * A voice turn on the wire (docs/protocol.md "Voice turns"): its params, the same over MQTT ({@code params} of a request on
 * {@link Topics#voice()}) and HTTP (the body of {@code POST /v1/voice/turns}), and the events it answers with, the same
 * JSON on both (MQTT messages on the reply topic; NDJSON lines): {@code transcript}, {@code delta} (the answer's text as it
 * is generated), {@code audio} (its speech, phrase by phrase, the last marked {@code last}) and one {@code result}.
 */
public final class VoiceCodec {
    public static final int VERSION = 1;
    /** See docs/benchmarks.md "A voice turn": what cutting the first phrase early saves. */
    public static final int DEFAULT_FIRST_WORDS = 0;
    /** A request: the visitor's audio (transcription's bound) and a little text. */
    public static final int MAX_REQUEST_BYTES = TranscribeCodec.MAX_JOB_BYTES + (64 << 10);
    /** What goes around an audio message's base64, counted against chunk_bytes: {"v":1,"type":"audio","id":…,"seq":…}. */
    static final int AUDIO_ENVELOPE = 96;

    private VoiceCodec() {
    }

    /** The params of a turn, naming a field at fault as {@code f}'s prefix plus its key. */
    public static VoiceParams readParams(JsonFields f) throws FieldException {
        for (String key : f.o().keySet()) {
            if (!FIELDS.contains(key)) {
                throw new FieldException(f.prefix() + key, "is not a field of a voice turn; its fields: " + String.join(", ", FIELDS));
            }
        }
        String conversation = f.optString("conversation", 1, 128);
        if (conversation == null) {
            throw new FieldException(f.prefix() + "conversation", "required: the conversation this turn continues (1-128 of A-Z a-z 0-9 . _ : -)");
        }
        if (!Topics.isSegment(conversation)) {
            throw new FieldException(f.prefix() + "conversation", "must be 1-128 of A-Z a-z 0-9 . _ : -");
        }
        byte[] audio = TranscribeCodec.readAudio(f, "the visitor's WAV");
        String system = f.optString("system", 0, VoiceParams.MAX_SYSTEM_CHARS);
        Boolean reset = f.optBool("reset");
        Integer rate = f.optInt("response_sample_rate", SpeechParams.SAMPLE_RATE);
        Integer chunk = f.optInt("chunk_bytes", SpeechParams.CHUNK_BYTES);
        List<String> stop = f.optStringList("stop", 16, 256);
        VoiceParams.Models models = VoiceParams.Models.NONE;
        if (f.get("models") != null) {
            if (!f.get("models").isJsonObject()) {
                throw new FieldException(f.prefix() + "models", "must be an object: {\"transcription\", \"chat\", \"speech\"}");
            }
            JsonFields m = new JsonFields(f.get("models").getAsJsonObject(), f.prefix() + "models.");
            models = new VoiceParams.Models(m.optString("transcription", 1, 128), m.optString("chat", 1, 128), m.optString("speech", 1, 128));
        }
        return new VoiceParams(audio, conversation, TranscribeCodec.language(f, "language"), system, reset != null && reset,
                f.optString("voice", 1, 64), SpeechCodec.speed(f, "speed"), rate == null ? VoiceParams.DEFAULT_SAMPLE_RATE : rate,
                chunk == null ? SpeechParams.DEFAULT_CHUNK_BYTES : chunk, f.optInt("max_tokens", VoiceParams.MAX_TOKENS),
                f.optDouble("temperature", 0, 2), stop, firstWords(f), models);
    }

    /** A turn asked for over MQTT: who asked, where to answer (with the MQTT 5 correlation data), until when, and what. */
    public record Request(String id, String replyTo, byte[] correlation, java.time.Instant expiresAt, VoiceParams params) {
    }

    /** A request that cannot be run; {@code replyTo} (null: nowhere to answer) gets its result. */
    public static final class Refused extends Exception {
        private final String id;
        private final String replyTo;
        private final String field;

        Refused(String id, String replyTo, String field, String message) {
            super(message);
            this.id = id;
            this.replyTo = replyTo;
            this.field = field;
        }

        public String id() {
            return id;
        }

        public String replyTo() {
            return replyTo;
        }

        public String field() {
            return field;
        }
    }

    /**
     * Reads a request published on {@link Topics#voice()}: {@code {"v":1,"id","reply_to","expires_at","params":{…}}}, the
     * reply topic from the MQTT 5 response topic when there is one (as for jobs, docs/protocol.md), else {@code reply_to},
     * else {@code axfleet/v1/results/voice/{id}}; the id from the JSON, else the correlation data, else {@code newId}.
     */
    public static Request decodeRequest(byte[] payload, String responseTopic, byte[] correlation, java.util.function.Supplier<String> newId)
            throws Refused {
        String fromCorrelation = correlation == null ? null : new String(correlation, StandardCharsets.UTF_8);
        String id = fromCorrelation != null && Topics.isSegment(fromCorrelation) ? fromCorrelation : newId.get();
        String replyTo = responseTopic != null && Topics.replyTopicProblem(responseTopic).isEmpty() ? responseTopic : Topics.defaultResult("voice", id);
        if (payload.length > MAX_REQUEST_BYTES) {
            throw new Refused(id, replyTo, "payload", "larger than " + MAX_REQUEST_BYTES + " bytes");
        }
        JsonFields f;
        try {
            f = JsonFields.of(JsonFields.parseObject(new String(payload, StandardCharsets.UTF_8)));
        } catch (com.google.gson.JsonParseException | IllegalStateException | StackOverflowError e) {
            throw new Refused(id, replyTo, "payload", "not a JSON object");
        }
        try {
            String own = f.optString("id", 1, 128);
            if (own != null) {
                if (!Topics.isSegment(own)) {
                    throw new FieldException("id", "must match [A-Za-z0-9._:-]{1,128}");
                }
                id = own;
                if (responseTopic == null) {
                    replyTo = Topics.defaultResult("voice", id);
                }
            }
            if (responseTopic == null) {
                String json = f.optString("reply_to", 1, 512);
                if (json != null) {
                    java.util.Optional<String> problem = Topics.replyTopicProblem(json);
                    if (problem.isPresent()) {
                        throw new FieldException("reply_to", problem.get());
                    }
                    replyTo = json;
                }
            }
            Integer v = f.optInt("v", 1, Integer.MAX_VALUE);
            if (v != null && v != VERSION) {
                throw new FieldException("v", "version " + v + " is not supported; the gateway speaks " + VERSION);
            }
            java.time.Instant expires = f.optInstant("expires_at");
            if (f.get("params") == null || !f.get("params").isJsonObject()) {
                throw new FieldException("params", "required: the turn's conversation and audio");
            }
            return new Request(id, replyTo, correlation, expires, readParams(new JsonFields(f.get("params").getAsJsonObject(), "params.")));
        } catch (FieldException e) {
            throw new Refused(id, replyTo, e.field(), e.getMessage());
        }
    }

    /** Words before the first phrase is cut where the text has no mark: absent, {@link #DEFAULT_FIRST_WORDS}. */
    private static int firstWords(JsonFields f) throws FieldException {
        Integer n = f.optInt("first_phrase_words", VoiceParams.FIRST_WORDS);
        return n == null ? DEFAULT_FIRST_WORDS : n;
    }

    /** The largest piece of PCM an audio message may carry so that it fits {@code chunkBytes} with its envelope. */
    public static int pcmPerMessage(int chunkBytes, String id) {
        int base64 = Math.max(4, chunkBytes - AUDIO_ENVELOPE - id.length());
        return Math.max(2, base64 / 4 * 3 / 2 * 2);
    }

    private static JsonObject event(String type, String id) {
        JsonObject o = new JsonObject();
        o.addProperty("v", VERSION);
        o.addProperty("type", type);
        o.addProperty("id", id);
        return o;
    }

    public static JsonObject transcript(String id, String text, String language, long ms) {
        JsonObject o = event("transcript", id);
        o.addProperty("text", text);
        if (language != null) {
            o.addProperty("language", language);
        }
        o.addProperty("ms", ms);
        return o;
    }

    public static JsonObject delta(String id, int seq, String text) {
        JsonObject o = event("delta", id);
        o.addProperty("seq", seq);
        o.addProperty("text", text);
        return o;
    }

    /** A piece of the answer's speech: 16-bit little-endian mono PCM of phrase {@code phrase}; the turn's last is {@code last}. */
    public static JsonObject audio(String id, int seq, int phrase, byte[] pcm, boolean last) {
        JsonObject o = event("audio", id);
        o.addProperty("seq", seq);
        o.addProperty("phrase", phrase);
        o.addProperty("audio", Base64.getEncoder().encodeToString(pcm));
        if (last) {
            o.addProperty("last", true);
        }
        return o;
    }

    /** How a turn ended. */
    public enum Outcome {
        DONE, CANCELLED, ERROR, EXPIRED;

        public String wire() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /**
     * The turn's one result: what was heard and answered, the audio's format, and where the time went (milliseconds from
     * the end of the visitor's audio: {@code transcript_ms}, {@code first_text_ms}, {@code first_phrase_ms}, {@code
     * first_audio_ms}, {@code done_ms}), or why it failed ({@code error}: {@code code}, {@code message}, {@code field}).
     */
    public static JsonObject result(String id, Outcome outcome, String conversation, String transcript, String text, int sampleRate,
                                    long audioBytes, Map<String, Long> timings, String errorCode, String errorMessage, String errorField) {
        JsonObject o = event("result", id);
        o.addProperty("task", "voice");
        o.addProperty("outcome", outcome.wire());
        o.addProperty("conversation", conversation);
        if (transcript != null) {
            o.addProperty("transcript", transcript);
        }
        if (text != null) {
            o.addProperty("text", text);
        }
        o.addProperty("format", "pcm");
        o.addProperty("sample_rate", sampleRate);
        o.addProperty("audio_ms", audioBytes * 1000 / 2 / Math.max(1, sampleRate));
        JsonObject t = new JsonObject();
        timings.forEach(t::addProperty);
        o.add("timings", t);
        if (errorCode != null) {
            JsonObject e = new JsonObject();
            e.addProperty("code", errorCode);
            e.addProperty("message", errorMessage);
            if (errorField != null) {
                e.addProperty("field", errorField);
            }
            o.add("error", e);
        }
        return o;
    }

    public static byte[] bytes(JsonObject event) {
        return event.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** A turn's fields; another is refused by name, so a typo is not silently ignored. */
    public static final List<String> FIELDS = List.of("conversation", "audio", "format", "sample_rate", "language", "system", "reset",
            "voice", "speed", "response_sample_rate", "chunk_bytes", "max_tokens", "temperature", "stop", "first_phrase_words", "models", "stream");
}
