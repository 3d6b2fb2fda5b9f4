package dev.axfleet.broker.speech;

import com.google.gson.JsonObject;
import dev.axfleet.broker.FieldException;
import dev.axfleet.broker.JsonFields;
import dev.axfleet.broker.KindCodec;
import dev.axfleet.broker.Task;
import dev.axfleet.broker.WireName;
import java.util.Base64;

/**
 * Speech on the wire: {@code params.input}, {@code voice}, {@code speed}, {@code response_format} (pcm or wav),
 * {@code sample_rate}, {@code chunk_bytes}; with {@code stream} the audio goes out in ordered {@code audio} messages
 * before the result, otherwise the result carries it whole as {@code audio} (base64). The result says {@code format},
 * {@code sample_rate}, {@code voice}, {@code duration_ms}, {@code bytes} and {@code chunks}.
 */
public final class SpeechCodec extends KindCodec<SpeechParams, Speech> {
    public static final SpeechCodec INSTANCE = new SpeechCodec();
    /** Text only. */
    public static final int MAX_JOB_BYTES = 64 << 10;

    private SpeechCodec() {
        super(SpeechParams.class, Speech.class);
    }

    @Override
    public int maxJobBytes() {
        return MAX_JOB_BYTES;
    }

    @Override
    protected void writeParams(SpeechParams p, JsonObject o) {
        o.addProperty("input", p.input());
        if (p.voice() != null) {
            o.addProperty("voice", p.voice());
        }
        if (p.speed() != 1.0) {
            o.addProperty("speed", p.speed());
        }
        o.addProperty("response_format", p.format().wire());
        addIfSet(o, "sample_rate", p.sampleRate());
        addIfSet(o, "chunk_bytes", p.chunkBytes());
    }

    @Override
    protected SpeechParams readParams(Task task, JsonFields f) throws FieldException {
        return new SpeechParams(input(f, "input"), f.optString("voice", 1, 64), speed(f, "speed"), format(f, "response_format"),
                f.optInt("sample_rate", SpeechParams.SAMPLE_RATE), f.optInt("chunk_bytes", SpeechParams.CHUNK_BYTES));
    }

    /** The text to speak: 1 to 4096 characters, not all blank. */
    public static String input(JsonFields f, String key) throws FieldException {
        if (f.get(key) == null) {
            throw new FieldException(f.prefix() + key, "required: the text to speak");
        }
        String s = f.optString(key, 0, Integer.MAX_VALUE);
        if (s.isBlank()) {
            throw new FieldException(f.prefix() + key, "is empty");
        }
        if (s.length() > SpeechParams.MAX_INPUT_CHARS) {
            throw new FieldException(f.prefix() + key, "is " + s.length() + " characters; at most " + SpeechParams.MAX_INPUT_CHARS);
        }
        return s;
    }

    /** OpenAI's {@code speed}: 0.25 to 4, 1 when absent. */
    public static double speed(JsonFields f, String key) throws FieldException {
        Double d = f.optDouble(key, SpeechParams.SPEED);
        return d == null ? 1.0 : d;
    }

    private static SpeechParams.Format format(JsonFields f, String key) throws FieldException {
        String s = f.optString(key, 1, 16);
        if (s == null) {
            return SpeechParams.Format.WAV;
        }
        return WireName.parse(SpeechParams.Format.class, s).orElseThrow(() -> new FieldException(f.prefix() + key,
                "must be wav or pcm on MQTT (the gateway encodes mp3, opus, aac and flac)"));
    }

    @Override
    protected void writeOutput(Speech s, JsonObject o) {
        o.addProperty("format", s.format().wire());
        o.addProperty("sample_rate", s.sampleRate());
        o.addProperty("voice", s.voice());
        o.addProperty("duration_ms", s.durationMs());
        o.addProperty("bytes", s.bytes());
        o.addProperty("chunks", s.chunks());
        o.addProperty("first_audio_ms", s.firstAudioMs());
        o.addProperty("host_ms", s.hostMs());
        o.addProperty("runtime_ms", s.runtimeMs());
        if (s.audio() != null) {
            o.addProperty("audio", Base64.getEncoder().encodeToString(s.audio()));
        }
    }

    @Override
    protected Speech readOutput(JsonObject o) {
        return new Speech(WireName.parse(SpeechParams.Format.class, string(o, "format")).orElse(SpeechParams.Format.PCM),
                o.has("sample_rate") ? o.get("sample_rate").getAsInt() : 0, string(o, "voice"),
                o.has("duration_ms") ? o.get("duration_ms").getAsLong() : 0, o.has("bytes") ? o.get("bytes").getAsLong() : 0,
                o.has("chunks") ? o.get("chunks").getAsInt() : 0, o.has("audio") ? Base64.getDecoder().decode(string(o, "audio")) : null,
                number(o, "first_audio_ms"), number(o, "host_ms"), number(o, "runtime_ms"));
    }

    private static long number(JsonObject o, String key) {
        return o.has(key) ? o.get(key).getAsLong() : 0;
    }
}
