package dev.axfleet.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.axfleet.broker.audio.Wav;
import dev.axfleet.broker.testing.TestTools;
import dev.axfleet.config.Settings;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
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
 * Home Assistant's voice protocol on a fleet started as {@code ./axfleet up} starts one without a card (emulated chat,
 * asr_server with Whisper-Tiny, StackFlow melotts; Wyoming on a free port instead of 10300): a client written from the
 * protocol's README with Python's standard library (deploy/src/test/python/wyoming_client.py) gets {@code info}, a
 * transcript and synthesized audio, streamed synthesis phrase by phrase; peers that break the protocol (garbage, an
 * oversized payload, a header without end, a stalled event, events out of order, an unknown voice) get an error event and
 * a closed connection, never a hang.
 */
class WyomingTest {
    static final Path CLIENT = Path.of("src/test/python/wyoming_client.py").toAbsolutePath();
    @TempDir
    static Path dir;
    static Fleet fleet;
    static int port;

    @BeforeAll
    static void start() throws Exception {
        fleet = Fleet.start(FleetConfig.from(Settings.of(Map.of(
                "fleet.home", dir.resolve("home").toString(),
                "fleet.emulate", "true",
                "fleet.models", "qwen3-0.6b=Qwen3-0.6B,whisper-tiny,melotts-en-default",
                "fleet.image_model", "",
                "fleet.monitor", "false",
                "emulator.time_scale", "0.05",
                "broker.embedded_port", "0",
                "gateway.port", "0",
                "gateway.wyoming_port", "0",
                "gateway.wyoming_idle_timeout", "1s"))));
        TestFleets.awaitHealthy("http://127.0.0.1:" + fleet.gatewayPort());
        port = fleet.wyomingPort();
        assertTrue(port > 0, "Wyoming is offered beside the speech models");
    }

    @AfterAll
    static void stop() {
        if (fleet != null) {
            fleet.close();
        }
    }

    static List<String> python() {
        TestTools.require("python3", "apt-get install python3", Files.isExecutable(Path.of("/usr/bin/python3")));
        return List.of("/usr/bin/python3", CLIENT.toString());
    }

    static JsonObject client(String... args) throws Exception {
        List<String> command = new ArrayList<>(python());
        command.add(args[0]);
        command.add("127.0.0.1");
        command.add(String.valueOf(port));
        command.addAll(List.of(args).subList(1, args.length));
        return TestFleets.json(TestFleets.run(command, null));
    }

    /** Three tone bursts with pauses between, at 22.05 kHz (not the 16 kHz the runtime hears). */
    static Path bursts() throws Exception {
        int rate = 22_050;
        float[] s = new float[(int) (rate * 2.4)];
        for (int i = 0; i < s.length; i++) {
            double t = (double) i / rate;
            s[i] = (t % 0.8) < 0.5 ? (float) (0.4 * Math.sin(2 * Math.PI * 440 * t)) : 0f;
        }
        Path f = dir.resolve("visitor.wav");
        Files.write(f, Wav.write16(s, rate));
        return f;
    }

    @Test
    void describeAnswersInfoListingTheCardsSpeechModelsAsHomeAssistantReadsThem() throws Exception {
        JsonObject o = client("info");
        assertEquals("info", o.get("type").getAsString());
        assertTrue(o.get("ms").getAsInt() < 1000, "within Home Assistant's 1 s info timeout: " + o);
        JsonObject info = o.getAsJsonObject("data");
        JsonObject asr = info.getAsJsonArray("asr").get(0).getAsJsonObject();
        assertTrue(asr.get("installed").getAsBoolean(), "Home Assistant uses installed programs only");
        assertNotNull(asr.getAsJsonObject("attribution").get("url"));
        JsonObject model = asr.getAsJsonArray("models").get(0).getAsJsonObject();
        assertEquals("whisper-tiny", model.get("name").getAsString());
        assertTrue(model.get("installed").getAsBoolean());
        assertTrue(model.getAsJsonArray("languages").contains(new com.google.gson.JsonPrimitive("en")), model.toString());
        assertTrue(model.get("description").getAsString().contains("EMULATED"), "says it is emulated: " + model);
        JsonObject tts = info.getAsJsonArray("tts").get(0).getAsJsonObject();
        assertTrue(tts.get("installed").getAsBoolean());
        assertTrue(tts.get("supports_synthesize_streaming").getAsBoolean());
        JsonObject voice = tts.getAsJsonArray("voices").get(0).getAsJsonObject();
        assertEquals("en-default", voice.get("name").getAsString(), "the model's voice as its worker announced it");
        assertEquals("[\"en\"]", voice.getAsJsonArray("languages").toString());
        for (String none : List.of("handle", "intent", "wake", "mic", "snd")) {
            assertEquals(0, info.getAsJsonArray(none).size(), none);
        }
    }

    @Test
    void aTranscribedStreamComesBackAsATranscriptOfWhatTheRuntimeHeard() throws Exception {
        Path wav = bursts();
        JsonObject o = client("transcribe", wav.toString(), "en-US");
        assertEquals("transcript", o.get("type").getAsString(), o.toString());
        String text = o.getAsJsonObject("data").get("text").getAsString();
        // The emulated asr_server says what reached it: 2.40 s at 16 kHz, in English (en-US named en, as Whisper names it).
        assertTrue(text.startsWith("(emulated whisper_tiny, en: ") && text.contains(" at 16000 Hz)"), text);
        assertEquals("en", o.getAsJsonObject("data").get("language").getAsString());
        assertEquals("[\"transcript\"]", o.getAsJsonArray("events").toString(), "nothing but the transcript");
        assertTrue(o.get("chunks_sent").getAsInt() > 40, "sent as Home Assistant does, a chunk at a time: " + o);
    }

    @Test
    void synthesizeAnswersAudioStartChunksAndStopWithTheSpeechModelsAudio() throws Exception {
        Path out = dir.resolve("spoken.wav");
        JsonObject o = client("synthesize", "Hello there, visitor. The desert is quiet tonight.", out.toString(), "en-default");
        assertTrue(o.get("error").isJsonNull(), o.toString());
        JsonArray events = o.getAsJsonArray("events");
        assertEquals("audio-start", events.get(0).getAsString());
        assertEquals("audio-stop", events.get(events.size() - 1).getAsString());
        assertEquals(16_000, o.get("rate").getAsInt());
        assertTrue(o.get("chunks").getAsInt() >= 2, o.toString());
        Wav.Info w = Wav.info(Files.readAllBytes(out));
        // A27: about 75 ms of audio a character; the text is 50 characters.
        assertTrue(w.dataBytes() / 2.0 / 16_000 > 2.0, "seconds of audio: " + w);
        for (int i = 1; i < events.size() - 1; i++) {
            assertEquals("audio-chunk", events.get(i).getAsString(), events.toString());
        }
    }

    @Test
    void streamedTextIsSpokenPhraseByPhraseAndEndsWithSynthesizeStopped() throws Exception {
        Path out = dir.resolve("streamed.wav");
        // A reply arriving as a language model writes it; the whole text follows as synthesize (for older servers), ignored.
        JsonObject o = client("stream", out.toString(), "The bed ", "light is off. ", "The kitchen ", "lights are on", ". Anything else?");
        List<String> events = new ArrayList<>();
        o.getAsJsonArray("events").forEach(e -> events.add(e.getAsString()));
        assertEquals("synthesize-stopped", events.get(events.size() - 1), events.toString());
        assertEquals(3, events.stream().filter("audio-start"::equals).count(), "one audio stream per phrase, the compat synthesize ignored: " + events);
        assertEquals(3, events.stream().filter("audio-stop"::equals).count(), events.toString());
        assertTrue(o.get("bytes").getAsInt() > 16_000 * 2, "seconds of audio: " + o);
    }

    // ---- peers that break the protocol ----

    /** What the server sent before it closed the connection (it must close within 10 s). */
    static String exchange(byte[]... writes) throws Exception {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            try {
                for (byte[] w : writes) {
                    out.write(w);
                    out.flush();
                }
            } catch (java.io.IOException e) {
                // The server may close while we still write; what it said is still to be read.
            }
            InputStream in = s.getInputStream();
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            byte[] buf = new byte[4096];
            while (true) {
                int n;
                try {
                    n = in.read(buf);
                } catch (SocketTimeoutException e) {
                    throw new AssertionError("the server neither answered nor closed within 10 s; it sent: " + got);
                } catch (java.net.SocketException e) {
                    break; // reset after it closed
                }
                if (n < 0) {
                    break;
                }
                got.write(buf, 0, n);
                assertTrue(System.nanoTime() < deadline, "closed within 10 s");
            }
            return got.toString(StandardCharsets.UTF_8);
        }
    }

    /** The error event in what the server sent: its header line, then its data. */
    static JsonObject error(String sent) {
        String[] lines = sent.split("\n", 2);
        JsonObject header = JsonParser.parseString(lines[0]).getAsJsonObject();
        assertEquals("error", header.get("type").getAsString(), sent);
        int length = header.get("data_length").getAsInt();
        byte[] rest = lines[1].getBytes(StandardCharsets.UTF_8);
        JsonObject data = JsonParser.parseString(new String(rest, 0, length, StandardCharsets.UTF_8)).getAsJsonObject();
        assertTrue(data.get("text").getAsString().length() > 5, data.toString());
        return data;
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void garbageGetsAnErrorEventAndTheConnectionClosed() throws Exception {
        assertEquals("bad-event", error(exchange(bytes("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))).get("code").getAsString());
        assertEquals("bad-event", error(exchange(bytes("{\"data\":{}}\n"))).get("code").getAsString(), "no type");
        assertEquals("bad-event", error(exchange(bytes("{\"type\":\"describe\",\"data_length\":-4}\n"))).get("code").getAsString());
        assertEquals("bad-event", error(exchange(bytes("{\"type\":\"describe\",\"data_length\":3}\nabc"))).get("code").getAsString(),
                "additional data that is not JSON");
        assertEquals("bad-event", error(exchange(bytes("{\"type\":\"audio-chunk\",\"data\":{\"rate\":16000,\"width\":2,\"channels\":1},"
                + "\"payload_length\":4}\n\0\0\0\0"))).get("code").getAsString(), "a chunk before audio-start");
        JsonObject v = error(exchange(bytes("{\"type\":\"synthesize\",\"data\":{\"text\":\"hi\",\"voice\":{\"name\":\"nobody\"}}}\n")));
        assertEquals("not-served", v.get("code").getAsString());
        assertTrue(v.get("text").getAsString().contains("en-default"), "names the voices there are: " + v);
    }

    @Test
    void anOversizedPayloadOrEndlessHeaderIsRefusedWithoutReadingIt() throws Exception {
        String huge = "{\"type\":\"audio-chunk\",\"data\":{\"rate\":16000,\"width\":2,\"channels\":1},\"payload_length\":500000000}\n";
        JsonObject e = error(exchange(bytes("{\"type\":\"audio-start\",\"data\":{\"rate\":16000,\"width\":2,\"channels\":1}}\n"), bytes(huge),
                new byte[256 << 10]));
        assertEquals("too-large", e.get("code").getAsString());
        assertTrue(e.get("text").getAsString().contains("payload_length"), e.toString());
        byte[] endless = new byte[200 << 10];
        java.util.Arrays.fill(endless, (byte) 'x');
        assertEquals("too-large", error(exchange(bytes("{\"type\":\"describe\",\"pad\":\""), endless)).get("code").getAsString());
    }

    @Test
    void aPeerThatStallsMidEventIsToldAndClosedAfterTheIdleTimeout() throws Exception {
        long t0 = System.nanoTime();
        JsonObject e = error(exchange(bytes("{\"type\":\"audio-start\",\"data\":{\"rate\":16000,\"width\":2,\"channels\":1}}\n"
                + "{\"type\":\"audio-chunk\",\"data\":{\"rate\":16000,\"width\":2,\"channels\":1},\"payload_length\":3200}\n"), new byte[100]));
        assertEquals("timeout", e.get("code").getAsString());
        assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(8), "closed after gateway.wyoming_idle_timeout (1 s), not never");
    }

    @Test
    void audioOutsideTheBoundsIsRefusedNamingWhy() throws Exception {
        JsonObject e = error(exchange(bytes("{\"type\":\"audio-start\",\"data\":{\"rate\":16000,\"width\":2,\"channels\":8}}\n")));
        assertTrue(e.get("text").getAsString().contains("channels"), e.toString());
        // 20 ms of audio: shorter than a transcription takes.
        JsonObject shortOne = error(exchange(bytes("{\"type\":\"audio-start\",\"data\":{\"rate\":16000,\"width\":2,\"channels\":1}}\n"
                + "{\"type\":\"audio-chunk\",\"data\":{\"rate\":16000,\"width\":2,\"channels\":1},\"payload_length\":640}\n"), new byte[640],
                bytes("{\"type\":\"audio-stop\"}\n")));
        assertEquals("bad-audio", shortOne.get("code").getAsString(), shortOne.toString());
    }

}
