package dev.axfleet.broker.transcribe;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.axfleet.broker.FieldException;
import dev.axfleet.broker.JsonFields;
import dev.axfleet.broker.KindCodec;
import dev.axfleet.broker.Task;
import dev.axfleet.broker.audio.Wav;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Transcription on the wire: {@code params.audio} (base64 of a WAV file, or with {@code "format":"pcm"} of 16-bit
 * little-endian mono samples at {@code sample_rate}) and {@code language}; results carry {@code text}, {@code language},
 * {@code duration} and {@code segments} ({@code [{start, end, text}]}). What the runtime cannot do is refused by name,
 * never ignored: {@code prompt} (asr_server reads no prompt) and a {@code temperature} other than 0 (it decodes greedily).
 */
public final class TranscribeCodec extends KindCodec<TranscribeParams, Transcript> {
    public static final TranscribeCodec INSTANCE = new TranscribeCodec();
    /** The base64 of {@link TranscribeParams#MAX_AUDIO_BYTES} and the envelope. */
    public static final int MAX_JOB_BYTES = 28 << 20;
    private static final Pattern LANGUAGE = Pattern.compile("[A-Za-z]{2,8}([_-][A-Za-z0-9]{1,8})?");

    private TranscribeCodec() {
        super(TranscribeParams.class, Transcript.class);
    }

    @Override
    public int maxJobBytes() {
        return MAX_JOB_BYTES;
    }

    @Override
    protected void writeParams(TranscribeParams p, JsonObject o) {
        o.addProperty("audio", Base64.getEncoder().encodeToString(p.audio()));
        if (p.language() != null) {
            o.addProperty("language", p.language());
        }
    }

    @Override
    protected TranscribeParams readParams(Task task, JsonFields f) throws FieldException {
        byte[] audio = readAudio(f, "a WAV file");
        if (f.get("prompt") != null) {
            throw new FieldException(f.prefix() + "prompt", "not served: asr_server reads no prompt (ax_asr_api cpp/server/asr_server.cpp)");
        }
        Double temperature = f.optDouble("temperature", 0, 1);
        if (temperature != null && temperature != 0) {
            throw new FieldException(f.prefix() + "temperature", "not served: the runtime decodes greedily (temperature 0) only");
        }
        return new TranscribeParams(audio, language(f, "language"));
    }

    /**
     * A job's {@code audio} (base64 of {@code what}: a WAV file, or with {@code format} pcm 16-bit mono samples at
     * {@code sample_rate}) as a WAV file within transcription's bounds, else why not.
     */
    public static byte[] readAudio(JsonFields f, String what) throws FieldException {
        String b64 = f.optString("audio", 1, Integer.MAX_VALUE);
        if (b64 == null) {
            throw new FieldException(f.prefix() + "audio", "required: base64 of " + what + " (or with format pcm, 16-bit mono samples)");
        }
        byte[] audio;
        try {
            audio = Base64.getDecoder().decode(b64);
        } catch (IllegalArgumentException e) {
            throw new FieldException(f.prefix() + "audio", "is not base64: " + e.getMessage());
        }
        String format = f.optString("format", 1, 8);
        if ("pcm".equals(format)) {
            Integer rate = f.optInt("sample_rate", TranscribeParams.MIN_RATE, TranscribeParams.MAX_RATE);
            if (rate == null) {
                throw new FieldException(f.prefix() + "sample_rate", "required with format pcm: the rate of the 16-bit little-endian mono samples");
            }
            if (audio.length % 2 != 0) {
                throw new FieldException(f.prefix() + "audio", "16-bit samples come in pairs of bytes; this has " + audio.length);
            }
            audio = Wav.withHeader(audio, rate);
        } else if (format != null && !format.equals("wav")) {
            throw new FieldException(f.prefix() + "format", "must be wav (the default) or pcm");
        }
        return checkAudio(audio, f.prefix() + "audio");
    }

    /** The audio when it is a WAV file within the bounds, else why not, naming {@code field}. */
    public static byte[] checkAudio(byte[] audio, String field) throws FieldException {
        if (audio.length == 0) {
            throw new FieldException(field, "is empty");
        }
        if (audio.length > TranscribeParams.MAX_AUDIO_BYTES) {
            throw new FieldException(field, "is " + audio.length + " bytes; at most " + TranscribeParams.MAX_AUDIO_BYTES);
        }
        Wav.Info i;
        try {
            i = Wav.info(audio);
        } catch (Wav.FormatException e) {
            throw new FieldException(field, "is not a WAV file axfleet reads (" + e.getMessage() + ")");
        }
        if (i.channels() > TranscribeParams.MAX_CHANNELS) {
            throw new FieldException(field, "has " + i.channels() + " channels; send mono or stereo");
        }
        if (i.sampleRate() < TranscribeParams.MIN_RATE || i.sampleRate() > TranscribeParams.MAX_RATE) {
            throw new FieldException(field, "is sampled at " + i.sampleRate() + " Hz; " + TranscribeParams.MIN_RATE + " to "
                    + TranscribeParams.MAX_RATE + " Hz are taken");
        }
        if (i.seconds() < TranscribeParams.MIN_SECONDS) {
            throw new FieldException(field, String.format(java.util.Locale.ROOT, "is %.3f s long; the shortest taken is %.1f s", i.seconds(),
                    TranscribeParams.MIN_SECONDS));
        }
        if (i.seconds() > TranscribeParams.MAX_SECONDS) {
            throw new FieldException(field, String.format(java.util.Locale.ROOT, "is %.0f s long; at most %.0f s are taken", i.seconds(),
                    TranscribeParams.MAX_SECONDS));
        }
        return audio;
    }

    /** A language code as Whisper and SenseVoice name them (en, zh, yue, auto...), or null when absent. */
    public static String language(JsonFields f, String key) throws FieldException {
        String s = f.optString(key, 1, 17);
        if (s == null || s.isBlank()) {
            return null;
        }
        if (!LANGUAGE.matcher(s.trim()).matches()) {
            throw new FieldException(f.prefix() + key, "must be a language code such as en, zh or auto");
        }
        return s.trim().toLowerCase(java.util.Locale.ROOT);
    }

    @Override
    protected void writeOutput(Transcript t, JsonObject o) {
        o.addProperty("text", t.text());
        if (t.language() != null) {
            o.addProperty("language", t.language());
        }
        o.addProperty("duration", round(t.duration()));
        JsonArray segments = new JsonArray();
        for (Transcript.Segment s : t.segments()) {
            JsonObject j = new JsonObject();
            j.addProperty("start", round(s.start()));
            j.addProperty("end", round(s.end()));
            j.addProperty("text", s.text());
            segments.add(j);
        }
        o.add("segments", segments);
        o.addProperty("host_ms", t.hostMs());
        o.addProperty("runtime_ms", t.runtimeMs());
    }

    private static double round(double seconds) {
        return Math.round(seconds * 1000) / 1000.0;
    }

    @Override
    protected Transcript readOutput(JsonObject o) {
        List<Transcript.Segment> segments = new ArrayList<>();
        if (o.has("segments") && o.get("segments").isJsonArray()) {
            for (JsonElement e : o.getAsJsonArray("segments")) {
                JsonObject s = e.getAsJsonObject();
                segments.add(new Transcript.Segment(s.get("start").getAsDouble(), s.get("end").getAsDouble(), string(s, "text")));
            }
        }
        return new Transcript(string(o, "text"), string(o, "language"), o.has("duration") ? o.get("duration").getAsDouble() : 0, segments,
                o.has("host_ms") ? o.get("host_ms").getAsLong() : 0, o.has("runtime_ms") ? o.get("runtime_ms").getAsLong() : 0);
    }
}
