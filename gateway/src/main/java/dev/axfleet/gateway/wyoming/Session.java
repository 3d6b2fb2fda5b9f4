package dev.axfleet.gateway.wyoming;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.axfleet.broker.FieldException;
import dev.axfleet.broker.JobResult;
import dev.axfleet.broker.Kind;
import dev.axfleet.broker.audio.Mono;
import dev.axfleet.broker.audio.Wav;
import dev.axfleet.broker.speech.SpeechParams;
import dev.axfleet.broker.transcribe.TranscribeCodec;
import dev.axfleet.broker.transcribe.TranscribeParams;
import dev.axfleet.broker.transcribe.Transcript;
import dev.axfleet.gateway.ApiException;
import dev.axfleet.gateway.JobRunner;
import dev.axfleet.gateway.ModelRegistry;
import dev.axfleet.gateway.RequestLog;
import dev.axfleet.gateway.voice.Phrases;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Wyoming connection, as OHF-Voice/wyoming@22f8dea README.md "Event Flow" has it: {@code describe} → {@code info};
 * {@code transcribe}, {@code audio-start}, {@code audio-chunk}s, {@code audio-stop} → {@code transcript} (one transcription
 * job); {@code synthesize} → {@code audio-start}, {@code audio-chunk}s, {@code audio-stop} (speech jobs, the audio sent as
 * the unit speaks each phrase); the streaming form {@code synthesize-start}, {@code synthesize-chunk}s, {@code
 * synthesize-stop} → each phrase's audio as soon as its text is whole, then {@code synthesize-stopped} (the {@code
 * synthesize} sent inside a stream for older servers is ignored, as wyoming-piper's handler does); {@code ping} →
 * {@code pong}. Every job goes through the queue like any other caller's. What breaks the format gets an {@code error}
 * event (wyoming/error.py: {@code text}, {@code code}) and the connection is closed; so does a job that fails (Home Assistant's client waits
 * for the transcript or the audio-stop until the connection ends: homeassistant/components/wyoming stt.py, tts.py).
 */
final class Session {
    private static final Logger log = LoggerFactory.getLogger(Session.class);
    /** The audio the server sends: the speech model's own rate (MeloTTS's mode files say 16 kHz, F54), 16-bit mono. */
    static final int RATE = 16_000;
    /** Each audio-chunk carries about a tenth of a second (wyoming-piper sends 1024 samples a chunk). */
    private static final int CHUNK_BYTES = RATE / 10 * 2;

    private final JobRunner runner;
    private final ModelRegistry registry;
    private final Info info;
    private final InputStream in;
    private final OutputStream out;
    private final String peer;

    // A transcription being heard.
    private String asrName;
    private String asrLanguage;
    private AudioFormat format;
    private ByteArrayOutputStream heard;
    // A streamed synthesis.
    private boolean streaming;
    private Phrases phrases;
    private Info.Voice streamVoice;

    Session(JobRunner runner, ModelRegistry registry, InputStream in, OutputStream out, String peer) {
        this.runner = runner;
        this.registry = registry;
        this.info = new Info(registry);
        this.in = in;
        this.out = out;
        this.peer = peer;
    }

    /** PCM as an audio-start describes it. */
    record AudioFormat(int rate, int width, int channels) {
    }

    /** Reads and answers events until the peer closes; a BadEvent ends the session (the caller tells the peer). */
    void run() throws IOException, Event.BadEvent {
        while (true) {
            Event e = Event.read(in, Event.Limits.DEFAULT);
            if (e == null) {
                return;
            }
            handle(e);
        }
    }

    /** Tells the peer what went wrong, before the connection closes. */
    void error(String code, String text) {
        JsonObject d = new JsonObject();
        d.addProperty("text", text);
        d.addProperty("code", code);
        try {
            Event.of("error", d).write(out);
        } catch (IOException ignored) {
            // The peer has gone; nothing to tell.
        }
    }

    private void handle(Event e) throws IOException, Event.BadEvent {
        switch (e.type()) {
            case "describe" -> info.event().write(out);
            case "ping" -> {
                JsonObject d = new JsonObject();
                d.add("text", e.data().get("text"));
                Event.of("pong", d).write(out);
            }
            case "transcribe" -> {
                asrName = string(e.data(), "name");
                asrLanguage = string(e.data(), "language");
            }
            case "audio-start" -> {
                format = format(e.data());
                heard = new ByteArrayOutputStream();
            }
            case "audio-chunk" -> {
                if (heard == null) {
                    throw new Event.BadEvent("bad-event", "audio-chunk before audio-start");
                }
                if (!format(e.data()).equals(format)) {
                    throw new Event.BadEvent("bad-event", "audio-chunk in another format than its audio-start said (" + format + ")");
                }
                if (heard.size() + (long) e.payload().length > TranscribeParams.MAX_AUDIO_BYTES) {
                    throw new Event.BadEvent("too-large", "more than " + TranscribeParams.MAX_AUDIO_BYTES + " bytes of audio in one stream");
                }
                heard.writeBytes(e.payload());
            }
            case "audio-stop" -> {
                if (heard == null) {
                    throw new Event.BadEvent("bad-event", "audio-stop before audio-start");
                }
                byte[] pcm = heard.toByteArray();
                AudioFormat f = format;
                heard = null;
                format = null;
                transcribe(pcm, f);
                asrName = null;
                asrLanguage = null;
            }
            case "synthesize" -> {
                if (!streaming) {
                    JsonObject voice = object(e.data(), "voice");
                    String text = string(e.data(), "text");
                    if (text == null) {
                        throw new Event.BadEvent("bad-event", "synthesize needs its text");
                    }
                    speakAll(text, voiceFor(voice));
                }
            }
            case "synthesize-start" -> {
                streamVoice = voiceFor(object(e.data(), "voice"));
                streaming = true;
                phrases = new Phrases(SpeechParams.MAX_INPUT_CHARS);
            }
            case "synthesize-chunk" -> {
                if (!streaming) {
                    throw new Event.BadEvent("bad-event", "synthesize-chunk before synthesize-start");
                }
                String text = string(e.data(), "text");
                for (String phrase : phrases.add(text == null ? "" : text)) {
                    speak(phrase, streamVoice);
                }
            }
            case "synthesize-stop" -> {
                if (streaming) {
                    String rest = phrases.finish();
                    if (!rest.isEmpty()) {
                        speak(rest, streamVoice);
                    }
                    streaming = false;
                    Event.of("synthesize-stopped", null).write(out);
                }
            }
            default -> log.debug("wyoming {}: {} is not served; ignored", peer, e.type());
        }
    }

    private void transcribe(byte[] pcm, AudioFormat f) throws IOException, Event.BadEvent {
        List<String> models = registry.modelsOf(Kind.TRANSCRIPTION);
        String model = asrName != null && models.contains(asrName) ? asrName : asrName == null && !models.isEmpty() ? models.get(0) : null;
        if (model == null) {
            throw new Event.BadEvent("not-served", asrName == null ? "no transcription model is served here"
                    : "no transcription model '" + asrName + "' here; models here: " + String.join(", ", models));
        }
        long start = System.nanoTime();
        RequestLog requestLog = new RequestLog();
        try {
            byte[] wav = TranscribeCodec.checkAudio(wav(pcm, f), "audio");
            JobResult r = runner.callAlone(model, new TranscribeParams(wav, language(asrLanguage)), requestLog, s -> { });
            Transcript t = r.output(Transcript.class);
            JsonObject d = new JsonObject();
            d.addProperty("text", t.text());
            if (t.language() != null) {
                d.addProperty("language", t.language());
            }
            Event.of("transcript", d).write(out);
            log.info("wyoming {} transcribe {} ms job={} model={} {} bytes", peer, (System.nanoTime() - start) / 1_000_000, requestLog.jobId(),
                    model, pcm.length);
        } catch (FieldException e) {
            throw new Event.BadEvent("bad-audio", e.getMessage());
        } catch (ApiException e) {
            log.info("wyoming {} transcribe failed: {} {}", peer, e.code(), e.getMessage());
            throw new Event.BadEvent(e.code(), e.getMessage());
        }
    }

    /** Speaks {@code text} whole: one speech job, or one a phrase-filled piece when it is longer than a job takes. */
    private void speakAll(String text, Info.Voice v) throws IOException, Event.BadEvent {
        Phrases cut = new Phrases(SpeechParams.MAX_INPUT_CHARS);
        List<String> pieces = new java.util.ArrayList<>();
        StringBuilder piece = new StringBuilder();
        List<String> all = new java.util.ArrayList<>(cut.add(text));
        String rest = cut.finish();
        if (!rest.isEmpty()) {
            all.add(rest);
        }
        for (String p : all) {
            if (piece.length() > 0 && piece.length() + 1 + p.length() > SpeechParams.MAX_INPUT_CHARS) {
                pieces.add(piece.toString());
                piece.setLength(0);
            }
            piece.append(piece.length() == 0 ? "" : " ").append(p);
        }
        if (piece.length() > 0) {
            pieces.add(piece.toString());
        }
        if (pieces.isEmpty()) {
            start();
            Event.of("audio-stop", null).write(out);
            return;
        }
        start();
        for (String p : pieces) {
            job(p, v);
        }
        Event.of("audio-stop", null).write(out);
    }

    /** One phrase of a stream: its own audio-start, chunks and audio-stop (as wyoming-piper sends a stream's sentences). */
    private void speak(String phrase, Info.Voice v) throws IOException, Event.BadEvent {
        start();
        job(phrase, v);
        Event.of("audio-stop", null).write(out);
    }

    private void start() throws IOException {
        Event.of("audio-start", audioData()).write(out);
    }

    /** One speech job, its audio sent as audio-chunks as it comes; a BadEvent when it failed. */
    private void job(String text, Info.Voice v) throws IOException, Event.BadEvent {
        long start = System.nanoTime();
        RequestLog requestLog = new RequestLog();
        ByteArrayOutputStream carry = new ByteArrayOutputStream();
        try {
            JobResult r = runner.streamAudio(v.model(), new SpeechParams(text, v.voice(), 1.0, SpeechParams.Format.PCM, RATE,
                    SpeechParams.DEFAULT_CHUNK_BYTES), pcm -> {
                carry.writeBytes(pcm);
                byte[] all = carry.toByteArray();
                int whole = all.length - all.length % CHUNK_BYTES;
                for (int i = 0; i < whole; i += CHUNK_BYTES) {
                    chunk(java.util.Arrays.copyOfRange(all, i, i + CHUNK_BYTES));
                }
                carry.reset();
                carry.write(all, whole, all.length - whole);
            }, requestLog);
            if (r == null) {
                throw new IOException("the peer went away while its audio was written");
            }
            if (carry.size() > 0) {
                byte[] last = carry.toByteArray();
                chunk(last.length % 2 == 0 ? last : java.util.Arrays.copyOf(last, last.length - 1));
            }
            log.info("wyoming {} synthesize {} ms job={} model={} {} chars", peer, (System.nanoTime() - start) / 1_000_000, requestLog.jobId(),
                    v.model(), text.length());
        } catch (ApiException e) {
            log.info("wyoming {} synthesize failed: {} {}", peer, e.code(), e.getMessage());
            throw new Event.BadEvent(e.code(), e.getMessage());
        }
    }

    private void chunk(byte[] pcm) throws IOException {
        if (pcm.length > 0) {
            new Event("audio-chunk", audioData(), pcm).write(out);
        }
    }

    private static JsonObject audioData() {
        JsonObject d = new JsonObject();
        d.addProperty("rate", RATE);
        d.addProperty("width", 2);
        d.addProperty("channels", 1);
        return d;
    }

    /** The voice a synthesize names; a BadEvent when none here matches. */
    private Info.Voice voiceFor(JsonObject voice) throws Event.BadEvent {
        String name = voice == null ? null : string(voice, "name");
        String language = voice == null ? null : string(voice, "language");
        Optional<Info.Voice> v = info.voice(name, language);
        if (v.isEmpty()) {
            throw new Event.BadEvent("not-served", registry.modelsOf(Kind.SPEECH).isEmpty() ? "no speech model is served here"
                    : "no voice '" + name + "' here; voices here: " + String.join(", ", info.voices().values().stream().flatMap(List::stream).toList()));
        }
        return v.get();
    }

    /** Whisper and SenseVoice name languages by their first part (en, not en-US). */
    private static String language(String asked) {
        if (asked == null || asked.isBlank()) {
            return null;
        }
        String first = asked.split("[-_]", 2)[0].toLowerCase(Locale.ROOT);
        return first.matches("[a-z]{2,8}") ? first : null;
    }

    /** The PCM a stream carried as a 16-bit mono WAV at its own rate (the gateway's audio rules do the rest, as for uploads). */
    private static byte[] wav(byte[] pcm, AudioFormat f) {
        int frame = f.width() * f.channels();
        int frames = pcm.length / frame;
        float[] mono = new float[frames];
        for (int i = 0; i < frames; i++) {
            double sum = 0;
            for (int c = 0; c < f.channels(); c++) {
                int at = i * frame + c * f.width();
                sum += switch (f.width()) {
                    case 1 -> ((pcm[at] & 0xff) - 128) / 128.0;
                    case 2 -> (short) ((pcm[at] & 0xff) | (pcm[at + 1] << 8)) / 32768.0;
                    default -> ((pcm[at] & 0xff) | (pcm[at + 1] & 0xff) << 8 | (pcm[at + 2] & 0xff) << 16 | pcm[at + 3] << 24) / 2147483648.0;
                };
            }
            mono[i] = (float) (sum / f.channels());
        }
        Mono m = new Mono(mono, f.rate());
        return f.rate() == RATE ? Wav.write16(mono, RATE) : Wav.write16(m.at(RATE).samples(), RATE);
    }

    private static AudioFormat format(JsonObject d) throws Event.BadEvent {
        int rate = integer(d, "rate", TranscribeParams.MIN_RATE, TranscribeParams.MAX_RATE);
        int width = integer(d, "width", 1, 4);
        int channels = integer(d, "channels", 1, TranscribeParams.MAX_CHANNELS);
        if (width == 3) {
            throw new Event.BadEvent("bad-event", "width 3 is not taken: send 1, 2 or 4 bytes a sample");
        }
        return new AudioFormat(rate, width, channels);
    }

    private static int integer(JsonObject d, String key, int min, int max) throws Event.BadEvent {
        JsonElement e = d.get(key);
        try {
            int v = e.getAsJsonPrimitive().getAsBigDecimal().intValueExact();
            if (v < min || v > max) {
                throw new ArithmeticException();
            }
            return v;
        } catch (RuntimeException ex) {
            throw new Event.BadEvent("bad-event", key + " must be a whole number from " + min + " to " + max);
        }
    }

    private static String string(JsonObject d, String key) {
        JsonElement e = d.get(key);
        return e != null && e.isJsonPrimitive() && e.getAsJsonPrimitive().isString() ? e.getAsString() : null;
    }

    private static JsonObject object(JsonObject d, String key) {
        JsonElement e = d.get(key);
        return e != null && e.isJsonObject() ? e.getAsJsonObject() : null;
    }
}
