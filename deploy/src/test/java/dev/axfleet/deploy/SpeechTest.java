package dev.axfleet.deploy;

import static dev.axfleet.deploy.TestFleets.json;
import static dev.axfleet.deploy.TestFleets.node;
import static dev.axfleet.deploy.TestFleets.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.axfleet.broker.audio.Wav;
import dev.axfleet.broker.testing.TestBroker;
import dev.axfleet.broker.testing.TestTools;
import dev.axfleet.config.Settings;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Transcription and speech through the fleet as {@code axfleet up} starts them by default (emulated asr_server with
 * Whisper-Tiny, emulated StackFlow melotts), driven by the official openai JavaScript client unchanged: a WAV spoken by
 * espeak-ng (and the same as MP3 and WebM/Opus through ffmpeg) in every response_format; speech in every format whose
 * header, rate and length sox and ffprobe check; OpenAI voice names taken, others refused; and bad input (not audio,
 * 0 bytes, three hours, 96 kHz 8-channel, 100,000 characters) refused with a 4xx before anything is queued.
 */
class SpeechTest {
    static final String ASR = "whisper-tiny";
    static final String TTS = "melotts-en-default";
    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    @TempDir
    static Path dir;
    static TestBroker broker;
    static Fleet fleet;
    static String base;

    static boolean tool(String name) {
        try {
            Process p = new ProcessBuilder("sh", "-c", "command -v " + name).start();
            return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (Exception e) {
            return false;
        }
    }

    static void requireTools() {
        TestTools.require("espeak-ng, ffmpeg and sox", "apt-get install espeak-ng ffmpeg sox",
                tool("espeak-ng") && tool("ffmpeg") && tool("ffprobe") && tool("soxi"));
    }

    @BeforeAll
    static void start() throws Exception {
        broker = TestBroker.embedded(dir.resolve("broker"));
        fleet = Fleet.start(FleetConfig.from(Settings.of(Map.of(
                "fleet.home", dir.resolve("home").toString(),
                "fleet.emulate", "true",
                "fleet.models", "qwen3-0.6b=Qwen3-0.6B," + ASR + "," + TTS,
                "fleet.image_model", "",
                "fleet.monitor", "false",
                "emulator.time_scale", "0.05",
                "broker.url", "mqtt://127.0.0.1:" + broker.address().port(),
                "gateway.port", "0"))));
        base = "http://127.0.0.1:" + fleet.gatewayPort();
        TestFleets.awaitHealthy(base);
    }

    @AfterAll
    static void stop() {
        if (fleet != null) {
            fleet.close();
        }
        if (broker != null) {
            broker.close();
        }
    }

    static String sh(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "finished: " + String.join(" ", command));
        assertEquals(0, p.exitValue(), String.join(" ", command) + ": " + out);
        return out.strip();
    }

    @Test
    void theOfficialClientTranscribesEspeakInEveryFormatAndHearsSpeechInEveryFormat() throws Exception {
        requireTools();
        List<String> nodeCommand = node();
        Path wav = dir.resolve("visitor.wav");
        sh("espeak-ng", "-w", wav.toString(), "Hello there, coyote. Can you hear me? I would like to hear a story about the desert at night.");
        Path mp3 = dir.resolve("visitor.mp3");
        Path webm = dir.resolve("visitor.webm");
        sh("ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-i", wav.toString(), "-c:a", "libmp3lame", "-b:a", "48k", mp3.toString());
        sh("ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-i", wav.toString(), "-c:a", "libopus", "-b:a", "24k", webm.toString());
        double seconds = Double.parseDouble(sh("soxi", "-D", wav.toString()));
        Path out = Files.createDirectories(dir.resolve("out"));
        JsonObject o = json(run(nodeCommand, "audio-clients.mjs", base, ASR, TTS, wav.toString(), mp3.toString(), webm.toString(), out.toString()));

        JsonObject t = o.getAsJsonObject("transcripts");
        String text = t.getAsJsonObject("json").get("text").getAsString();
        assertTrue(text.startsWith("(emulated whisper_tiny, en: ") && text.contains(" at 16000 Hz)"), "labelled, 16 kHz reached the runtime: " + text);
        assertEquals(text + "\n", t.get("text").getAsString(), "text: the transcript itself");
        JsonObject verbose = t.getAsJsonObject("verbose_json");
        assertEquals(seconds, verbose.get("duration").getAsDouble(), 0.01, "the audio's length, as soxi measures it");
        assertEquals("en", verbose.get("language").getAsString());
        JsonArray segments = verbose.getAsJsonArray("segments");
        assertTrue(segments.size() >= 2, "espeak pauses at its commas and full stops; cut there: " + segments);
        double last = 0;
        StringBuilder joined = new StringBuilder();
        List<String> cues = new ArrayList<>();
        for (JsonElement e : segments) {
            JsonObject s = e.getAsJsonObject();
            double start = s.get("start").getAsDouble();
            double end = s.get("end").getAsDouble();
            assertTrue(start >= last && end > start && end <= seconds + 0.001, "segments in order within the audio: " + segments);
            last = end;
            joined.append(joined.length() == 0 ? "" : " ").append(s.get("text").getAsString());
            cues.add(srtTime(start) + " --> " + srtTime(end));
        }
        assertEquals(text, joined.toString(), "the text is its segments stitched");
        String srt = t.get("srt").getAsString();
        String vtt = t.get("vtt").getAsString();
        assertTrue(vtt.startsWith("WEBVTT\n\n"), vtt);
        for (int i = 0; i < cues.size(); i++) {
            assertTrue(srt.contains((i + 1) + "\n" + cues.get(i) + "\n"), "srt cue " + (i + 1) + " has the segment's times: " + srt);
            assertTrue(vtt.contains(cues.get(i).replace(',', '.') + "\n"), "vtt cue " + (i + 1) + ": " + vtt);
        }
        assertTrue(o.get("fromMp3").getAsString().contains("at 16000 Hz"), "MP3 through ffmpeg, asked as whisper-1: " + o.get("fromMp3"));
        assertTrue(o.get("fromWebm").getAsString().contains("at 16000 Hz"), "WebM/Opus through ffmpeg: " + o.get("fromWebm"));
        for (String refusal : List.of("translation", "prompt", "words")) {
            assertEquals(400, o.getAsJsonObject(refusal).get("status").getAsInt(), refusal + ": " + o.get(refusal));
            assertTrue(o.getAsJsonObject(refusal).get("message").getAsString().contains("not served"), refusal + " says why: " + o.get(refusal));
        }
        assertEquals("prompt", o.getAsJsonObject("prompt").get("param").getAsString());
        JsonObject language = o.getAsJsonObject("language");
        assertEquals(400, language.get("status").getAsInt(), "a language the model lacks, refused by the runtime: " + language);
        assertEquals("language", language.get("param").getAsString());
        assertTrue(language.get("message").getAsString().contains("Unsupported language \"xx\""), language.toString());

        JsonObject speech = o.getAsJsonObject("speech");
        byte[] wavOut = Files.readAllBytes(out.resolve("speech.wav"));
        Wav.Info info = Wav.info(wavOut);
        assertEquals(24_000, info.sampleRate(), "OpenAI's rate");
        assertEquals(1, info.channels());
        assertEquals(16, info.bitsPerSample());
        assertEquals(wavOut.length - 44, info.dataBytes(), "the header's length is the data's");
        double spoken = Double.parseDouble(sh("soxi", "-D", out.resolve("speech.wav").toString()));
        assertTrue(spoken > 3, "several phrases of audio: " + spoken);
        assertEquals("24000", sh("soxi", "-r", out.resolve("speech.wav").toString()));
        byte[] pcm = Files.readAllBytes(out.resolve("speech.pcm"));
        assertEquals(wavOut.length - 44, pcm.length, "pcm is the same samples without the header (the emulator's audio is deterministic)");
        for (String format : List.of("mp3", "opus", "aac", "flac")) {
            JsonObject probe = JsonParser.parseString(sh("ffprobe", "-v", "error", "-show_entries", "format=duration:stream=sample_rate,channels,codec_name",
                    "-of", "json", out.resolve("speech." + format).toString())).getAsJsonObject();
            JsonObject stream = probe.getAsJsonArray("streams").get(0).getAsJsonObject();
            assertEquals(1, stream.get("channels").getAsInt(), format);
            if (!format.equals("opus")) {
                assertEquals("24000", stream.get("sample_rate").getAsString(), format + ": " + probe);
            }
            if (probe.getAsJsonObject("format").has("duration") && !format.equals("aac")) {
                assertEquals(spoken, probe.getAsJsonObject("format").get("duration").getAsDouble(), 0.15, format + " lasts as long: " + probe);
            }
        }
        assertEquals("audio/mpeg", speech.getAsJsonObject("mp3").get("type").getAsString());
        assertTrue(speech.getAsJsonObject("mp3").get("emulated").getAsString().startsWith("true"), "says it is emulated");
        assertTrue(o.get("byDefault").getAsInt() > 0, "tts-1, OpenAI's model name, and mp3 by default");
        JsonObject stream = o.getAsJsonObject("stream");
        assertEquals(pcm.length, stream.get("bytes").getAsInt(), "voice echo maps onto the same voice: the same audio");
        assertTrue(stream.get("chunks").getAsInt() >= 3, "phrase by phrase: " + stream);
        assertTrue(stream.get("first").getAsDouble() < stream.get("last").getAsDouble() / 2, "the first audio long before the last: " + stream);
        JsonObject sse = o.getAsJsonObject("sse");
        assertTrue(sse.get("deltas").getAsInt() >= 3, sse.toString());
        assertEquals(pcm.length, sse.get("audioBytes").getAsInt());
        assertTrue(sse.getAsJsonObject("done").getAsJsonObject("usage").get("input_tokens").getAsInt() > 0, sse.toString());
        JsonObject voice = o.getAsJsonObject("unknownVoice");
        assertEquals(400, voice.get("status").getAsInt());
        assertEquals("voice", voice.get("param").getAsString());
        assertTrue(voice.get("message").getAsString().contains("en-default") && voice.get("message").getAsString().contains("alloy"), voice.toString());
        assertEquals(400, o.getAsJsonObject("tooLong").get("status").getAsInt());
        assertEquals("input", o.getAsJsonObject("tooLong").get("param").getAsString());
        JsonObject listed = o.getAsJsonObject("voices").getAsJsonArray("data").get(0).getAsJsonObject();
        assertEquals("en-default", listed.get("id").getAsString());
        assertEquals(13, listed.getAsJsonArray("openai_voices").size(), "every OpenAI name means the model's one voice");
    }

    static String srtTime(double seconds) {
        long ms = Math.round(seconds * 1000);
        return String.format(java.util.Locale.ROOT, "%02d:%02d:%02d,%03d", ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000);
    }

    static HttpResponse<String> upload(String filename, byte[] file) throws Exception {
        String boundary = "b0undary";
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.writeBytes(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\n" + ASR + "\r\n").getBytes(StandardCharsets.UTF_8));
        body.writeBytes(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + filename
                + "\"\r\nContent-Type: application/octet-stream\r\n\r\n").getBytes(StandardCharsets.UTF_8));
        body.writeBytes(file);
        body.writeBytes(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
        return HTTP.send(HttpRequest.newBuilder(URI.create(base + "/v1/audio/transcriptions"))
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray())).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** A WAV header of {@code channels} 16-bit channels at {@code rate} before {@code seconds} of silence. */
    static byte[] wav(int rate, int channels, double seconds) {
        int data = (int) (rate * seconds) * channels * 2;
        ByteBuffer b = ByteBuffer.allocate(44 + data).order(ByteOrder.LITTLE_ENDIAN);
        b.put("RIFF".getBytes()).putInt(36 + data).put("WAVEfmt ".getBytes()).putInt(16).putShort((short) 1).putShort((short) channels)
                .putInt(rate).putInt(rate * channels * 2).putShort((short) (channels * 2)).putShort((short) 16).put("data".getBytes()).putInt(data);
        return b.array();
    }

    /** The jobs the model's workers have run, from /health. */
    static long jobsRun(String model) throws Exception {
        JsonObject health = JsonParser.parseString(HTTP.send(HttpRequest.newBuilder(URI.create(base + "/health")).build(),
                HttpResponse.BodyHandlers.ofString()).body()).getAsJsonObject();
        long n = 0;
        for (JsonElement w : health.getAsJsonObject("models").getAsJsonObject(model).getAsJsonArray("workers")) {
            n += w.getAsJsonObject().get("jobs_done").getAsLong() + w.getAsJsonObject().get("jobs_failed").getAsLong();
        }
        return n;
    }

    @Test
    void badAudioIsRefusedWithA4xxInOpenAisShapeBeforeAnythingIsQueued() throws Exception {
        requireTools();
        long before = jobsRun(ASR);
        // Three hours of MP3: one second of 8 kb/s frames over and over (ffprobe reckons the length from the bit rate).
        Path second = dir.resolve("second.mp3");
        sh("ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "anullsrc=r=8000:cl=mono", "-t", "1", "-c:a", "libmp3lame",
                "-b:a", "8k", "-write_xing", "0", "-id3v2_version", "0", second.toString());
        byte[] frames = Files.readAllBytes(second);
        ByteArrayOutputStream hours = new ByteArrayOutputStream();
        for (int i = 0; i < 3 * 3600; i++) {
            hours.writeBytes(frames);
        }
        Map<String, byte[]> bad = new java.util.LinkedHashMap<>();
        bad.put("notes.wav", "these are my notes, not audio".getBytes(StandardCharsets.UTF_8));
        bad.put("notes.mp3", "these are my notes, not audio".getBytes(StandardCharsets.UTF_8));
        bad.put("empty.wav", new byte[0]);
        bad.put("three-hours.mp3", hours.toByteArray());
        bad.put("studio.wav", wav(96_000, 8, 1.0));
        bad.put("click.wav", wav(16_000, 1, 0.02));
        for (Map.Entry<String, byte[]> e : bad.entrySet()) {
            HttpResponse<String> r = upload(e.getKey(), e.getValue());
            assertEquals(400, r.statusCode(), e.getKey() + ": " + r.body());
            JsonObject error = JsonParser.parseString(r.body()).getAsJsonObject().getAsJsonObject("error");
            assertEquals("invalid_request_error", error.get("type").getAsString(), r.body());
            assertEquals("file", error.get("param").getAsString(), r.body());
        }
        HttpResponse<String> huge = upload("huge.wav", wav(8_000, 1, 1800));
        assertEquals(413, huge.statusCode(), "past OpenAI's 25 MB: " + huge.body());
        assertEquals(before, jobsRun(ASR), "none of them reached the queue");
        HttpResponse<String> good = upload("tone.wav", Wav.write16(tone(16_000, 1.0), 16_000));
        assertEquals(200, good.statusCode(), good.body());
        HttpResponse<String> speech = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/v1/audio/speech")).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"" + TTS + "\",\"voice\":\"alloy\",\"input\":\"" + "x".repeat(100_000) + "\"}")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(400, speech.statusCode(), speech.body());
        assertNotNull(JsonParser.parseString(speech.body()).getAsJsonObject().getAsJsonObject("error"));
    }

    static float[] tone(int rate, double seconds) {
        float[] s = new float[(int) (rate * seconds)];
        for (int i = 0; i < s.length; i++) {
            s[i] = (float) (0.3 * Math.sin(2 * Math.PI * 300 * i / rate));
        }
        return s;
    }
}
