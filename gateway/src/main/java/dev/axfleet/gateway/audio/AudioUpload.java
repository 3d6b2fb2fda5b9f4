package dev.axfleet.gateway.audio;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.axfleet.broker.FieldException;
import dev.axfleet.broker.audio.Mono;
import dev.axfleet.broker.audio.Wav;
import dev.axfleet.broker.transcribe.TranscribeCodec;
import dev.axfleet.broker.transcribe.TranscribeParams;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * An uploaded audio file made what a transcription job carries: 16-bit mono WAV at the rate the runtimes hear (16 kHz:
 * ax_asr_api resamples everything to it). WAV (any rate, mono or stereo, PCM or float) is read in Java; anything else
 * (MP3, Ogg/Opus, WebM, M4A: what browsers and phones record) goes through ffprobe, to refuse what is not audio or too
 * long before decoding it, and ffmpeg. Every refusal names the {@code file} field.
 */
public final class AudioUpload {
    /** The rate jobs carry. */
    public static final int RATE = 16_000;
    private static final long PROBE_MS = 15_000;
    private static final long DECODE_MS = 120_000;

    private AudioUpload() {
    }

    /** The upload's audio as a job's WAV, or why not; {@link Ffmpeg.Unavailable} when ffmpeg is needed and cannot run. */
    public static byte[] toJobWav(byte[] upload, String filename) throws FieldException, Ffmpeg.Unavailable {
        if (upload.length == 0) {
            throw new FieldException("file", "is empty (0 bytes)");
        }
        if (Wav.looksLikeWav(upload)) {
            return fromWav(upload);
        }
        Path f = null;
        try {
            f = Ffmpeg.temp(upload, suffix(filename));
            probe(f);
            Ffmpeg.Result r = Ffmpeg.decode(f, RATE, TranscribeParams.MAX_SECONDS, DECODE_MS, (int) (TranscribeParams.MAX_SECONDS * RATE * 2) + 4096);
            if (r.exitCode() != 0 || r.stdout().length < 2) {
                throw new FieldException("file", "could not be decoded as audio (ffmpeg: " + firstLine(r.stderr()) + ")");
            }
            byte[] pcm = r.stdout().length % 2 == 0 ? r.stdout() : java.util.Arrays.copyOf(r.stdout(), r.stdout().length - 1);
            return TranscribeCodec.checkAudio(Wav.withHeader(pcm, RATE), "file");
        } catch (IOException e) {
            throw new Ffmpeg.Unavailable(Ffmpeg.Unavailable.Why.BUSY, "cannot write a temporary file for ffmpeg: " + e.getMessage());
        } finally {
            if (f != null) {
                try {
                    Files.deleteIfExists(f);
                } catch (IOException ignored) {
                    // A temporary file left behind; the system cleans /tmp.
                }
            }
        }
    }

    private static byte[] fromWav(byte[] upload) throws FieldException {
        TranscribeCodec.checkAudio(upload, "file");
        try {
            Wav.Info i = Wav.info(upload);
            if (i.sampleRate() == RATE && i.channels() == 1 && i.bitsPerSample() == 16 && !i.floating()) {
                return upload;
            }
            Mono m = Wav.readMono(upload).at(RATE);
            return Wav.write16(m.samples(), RATE);
        } catch (Wav.FormatException e) {
            throw new FieldException("file", "is not a WAV file axfleet reads (" + e.getMessage() + ")");
        }
    }

    /** ffprobe's view: an audio stream, mono or stereo, within the length bounds. */
    private static void probe(Path f) throws FieldException, Ffmpeg.Unavailable {
        Ffmpeg.Result r = Ffmpeg.probe(f, PROBE_MS);
        if (r.exitCode() != 0) {
            throw new FieldException("file", "is not an audio file ffmpeg reads (" + firstLine(r.stderr()) + ")");
        }
        JsonObject o;
        try {
            o = JsonParser.parseString(new String(r.stdout(), java.nio.charset.StandardCharsets.UTF_8)).getAsJsonObject();
        } catch (RuntimeException e) {
            throw new FieldException("file", "is not an audio file ffmpeg reads");
        }
        JsonObject audio = null;
        if (o.has("streams")) {
            for (JsonElement s : o.getAsJsonArray("streams")) {
                if (s.getAsJsonObject().has("codec_type") && "audio".equals(s.getAsJsonObject().get("codec_type").getAsString())) {
                    audio = s.getAsJsonObject();
                    break;
                }
            }
        }
        if (audio == null) {
            throw new FieldException("file", "holds no audio stream");
        }
        int channels = audio.has("channels") ? audio.get("channels").getAsInt() : 1;
        if (channels > TranscribeParams.MAX_CHANNELS) {
            throw new FieldException("file", "has " + channels + " channels; send mono or stereo");
        }
        JsonObject format = o.has("format") ? o.getAsJsonObject("format") : new JsonObject();
        if (format.has("duration")) {
            double seconds = format.get("duration").getAsDouble();
            if (seconds > TranscribeParams.MAX_SECONDS) {
                throw new FieldException("file", String.format(Locale.ROOT, "is %.0f s long; at most %.0f s are taken", seconds,
                        TranscribeParams.MAX_SECONDS));
            }
            if (seconds < TranscribeParams.MIN_SECONDS) {
                throw new FieldException("file", String.format(Locale.ROOT, "is %.3f s long; the shortest taken is %.1f s", seconds,
                        TranscribeParams.MIN_SECONDS));
            }
        }
    }

    private static String suffix(String filename) {
        if (filename == null) {
            return ".audio";
        }
        int dot = filename.lastIndexOf('.');
        String ext = dot < 0 ? "" : filename.substring(dot).toLowerCase(Locale.ROOT);
        return ext.matches("\\.[a-z0-9]{1,5}") ? ext : ".audio";
    }

    private static String firstLine(String s) {
        String line = s == null || s.isBlank() ? "no output" : s.lines().findFirst().orElse("");
        return line.length() > 200 ? line.substring(0, 200) : line;
    }
}
