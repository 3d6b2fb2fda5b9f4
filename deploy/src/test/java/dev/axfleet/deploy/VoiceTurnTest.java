package dev.axfleet.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import dev.axfleet.broker.audio.Wav;
import dev.axfleet.broker.testing.TestMqttClient;
import dev.axfleet.config.Settings;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A whole voice turn through the fleet as {@code ./axfleet up} runs it without a card (emulated Qwen3-0.6B, asr_server
 * with Whisper-Tiny, StackFlow melotts, sharing the emulated card's NPU), at a fifth of the card's pace so that the
 * pipelining shows: over HTTP (NDJSON, and whole) and over MQTT (a device's small audio messages): the transcript, the
 * answer's text as it is generated and its speech phrase by phrase while the answer is still being generated, the answer
 * kept in the conversation; a visitor who speaks again mid-answer (barge-in) stops the running answer and its speech on
 * the workers; bad requests are refused by field, before anything is queued.
 */
class VoiceTurnTest {
    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    @TempDir
    static Path dir;
    static Fleet fleet;
    static String base;
    static String wav64;

    @BeforeAll
    static void start() throws Exception {
        fleet = Fleet.start(FleetConfig.from(Settings.of(Map.of(
                "fleet.home", dir.resolve("home").toString(),
                "fleet.emulate", "true",
                "fleet.models", "qwen3-0.6b=Qwen3-0.6B,whisper-tiny,melotts-en-default",
                "fleet.image_model", "",
                "fleet.monitor", "false",
                "emulator.time_scale", "0.2",
                "broker.embedded_port", "0",
                "gateway.port", "0",
                "gateway.wyoming_port", "-1"))));
        base = "http://127.0.0.1:" + fleet.gatewayPort();
        TestFleets.awaitHealthy(base);
        float[] s = new float[16_000 * 2];
        for (int i = 0; i < s.length; i++) {
            s[i] = (i / 8000) % 2 == 0 ? (float) (0.3 * Math.sin(2 * Math.PI * 300 * i / 16_000.0)) : 0f;
        }
        wav64 = Base64.getEncoder().encodeToString(Wav.write16(s, 16_000));
    }

    @AfterAll
    static void stop() {
        if (fleet != null) {
            fleet.close();
        }
    }

    /** An event and when it arrived. */
    record Seen(long at, JsonObject event) {
        String type() {
            return event.get("type").getAsString();
        }
    }

    static String body(String conversation, String more) {
        return "{\"conversation\":\"" + conversation + "\",\"audio\":\"" + wav64 + "\"" + more + "}";
    }

    static HttpResponse<Stream<String>> post(String json) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(base + "/v1/voice/turns")).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofLines());
    }

    /** A streamed turn's events, as they arrived; {@code onAudio} runs at the first audio. */
    static List<Seen> turn(String json, Runnable onAudio) throws Exception {
        HttpResponse<Stream<String>> r = post(json);
        assertEquals(200, r.statusCode());
        assertEquals("application/x-ndjson", r.headers().firstValue("Content-Type").orElse(""));
        List<Seen> seen = new ArrayList<>();
        boolean[] audio = {false};
        r.body().forEach(line -> {
            Seen s = new Seen(System.nanoTime(), JsonParser.parseString(line).getAsJsonObject());
            seen.add(s);
            if (s.type().equals("audio") && !audio[0] && onAudio != null) {
                audio[0] = true;
                onAudio.run();
            }
        });
        return seen;
    }

    static JsonObject result(List<Seen> seen) {
        Seen last = seen.get(seen.size() - 1);
        assertEquals("result", last.type(), "the result comes last");
        return last.event();
    }

    static String prompts() throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + Fleet.EMULATED_RUNTIME_PORTS.get("qwen3-0.6b") + "/_emulator/stats"))
                .build(), HttpResponse.BodyHandlers.ofString()).body();
    }

    @Test
    void aTurnOverHttpGivesTheTranscriptTheAnswerAndItsSpeechWhileTheAnswerIsStillBeingGenerated() throws Exception {
        List<Seen> seen = turn(body("museum-1", ",\"system\":\"You are Wile, a coyote of the high desert.\""), null);
        assertEquals("transcript", seen.get(0).type(), "the transcript first");
        String transcript = seen.get(0).event().get("text").getAsString();
        // The emulated asr_server says what it heard: each piece the worker cut at the pauses, at 16 kHz.
        assertTrue(transcript.startsWith("(emulated whisper_tiny, en: ") && transcript.contains(" at 16000 Hz)"), transcript);
        StringBuilder text = new StringBuilder();
        int firstAudio = -1;
        int lastDelta = -1;
        int seq = 0;
        int phrase = 0;
        long bytes = 0;
        for (int i = 0; i < seen.size(); i++) {
            JsonObject e = seen.get(i).event();
            switch (seen.get(i).type()) {
                case "delta" -> {
                    text.append(e.get("text").getAsString());
                    lastDelta = i;
                }
                case "audio" -> {
                    assertEquals(seq++, e.get("seq").getAsInt(), "audio in order");
                    assertTrue(e.get("phrase").getAsInt() >= phrase, "phrases in order");
                    phrase = e.get("phrase").getAsInt();
                    bytes += Base64.getDecoder().decode(e.get("audio").getAsString()).length;
                    if (firstAudio < 0 && bytes > 0) {
                        firstAudio = i;
                    }
                    assertEquals(i == seen.size() - 2, e.has("last"), "the last audio message says so, and only it: " + e);
                }
                default -> {
                }
            }
        }
        JsonObject result = result(seen);
        assertEquals("done", result.get("outcome").getAsString(), result.toString());
        assertEquals(text.toString().strip(), result.get("text").getAsString(), "the result's text is the deltas'");
        assertTrue(result.get("text").getAsString().startsWith("(emulated Qwen3-0.6B)"), result.toString());
        assertEquals(transcript, result.get("transcript").getAsString());
        assertTrue(phrase >= 2, "spoken phrase by phrase: " + phrase);
        assertTrue(bytes > 16_000, "seconds of speech: " + bytes);
        assertTrue(firstAudio >= 0 && firstAudio < lastDelta,
                "pipelined: the first speech came while the answer was still being generated (first audio at event " + firstAudio
                        + ", last text at " + lastDelta + ")");
        JsonObject t = result.getAsJsonObject("timings");
        for (String[] order : new String[][] {{"transcript_ms", "first_text_ms"}, {"first_text_ms", "first_phrase_ms"},
                {"first_phrase_ms", "first_audio_ms"}, {"first_audio_ms", "done_ms"}}) {
            assertTrue(t.get(order[0]).getAsLong() <= t.get(order[1]).getAsLong(), order[0] + " before " + order[1] + ": " + t);
        }
        assertEquals(bytes * 1000 / 2 / 16_000, result.get("audio_ms").getAsLong());

        // The conversation keeps the turn: the next one's prompt holds the persona, the first words and the first answer.
        JsonObject second = result(turn(body("museum-1", ""), null));
        assertEquals("done", second.get("outcome").getAsString());
        String asked = prompts();
        assertTrue(asked.contains("You are Wile, a coyote of the high desert."), "the persona stays");
        assertTrue(asked.contains(result.get("text").getAsString().substring(0, 40)), "the first answer is in the second prompt");
    }

    @Test
    void aTurnAnsweredWholeCarriesItsSpeechAsAWav() throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/v1/voice/turns"))
                .POST(HttpRequest.BodyPublishers.ofString(body("museum-2", ",\"stream\":false,\"response_sample_rate\":24000"))).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        JsonObject o = JsonParser.parseString(r.body()).getAsJsonObject();
        assertEquals("done", o.get("outcome").getAsString());
        assertTrue(o.get("transcript").getAsString().startsWith("(emulated whisper_tiny"));
        assertTrue(o.get("text").getAsString().startsWith("(emulated Qwen3-0.6B)"));
        Wav.Info w = Wav.info(Base64.getDecoder().decode(o.get("audio").getAsString()));
        assertEquals(24_000, w.sampleRate());
        assertTrue(w.dataBytes() > 24_000, "seconds of speech: " + w);
        assertTrue(r.headers().firstValue("X-Axfleet-Emulated").isPresent(), "says it is emulated");
    }

    @Test
    void theVisitorSpeakingAgainStopsTheRunningAnswerAndItsSpeechOnTheWorkers() throws Exception {
        try (TestMqttClient watch = TestMqttClient.connect(fleet.brokerAddress(), "watch-barge-in")) {
            BlockingQueue<Mqtt5Publish> states = watch.subscribe("axfleet/v1/status/+/+");
            CompletableFuture<JsonObject> second = new CompletableFuture<>();
            List<Seen> first = turn(body("museum-3", ""), () -> CompletableFuture.runAsync(() -> {
                try {
                    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/v1/voice/turns"))
                            .POST(HttpRequest.BodyPublishers.ofString(body("museum-3", ",\"stream\":false"))).build(), HttpResponse.BodyHandlers.ofString());
                    second.complete(JsonParser.parseString(r.body()).getAsJsonObject());
                } catch (Exception e) {
                    second.completeExceptionally(e);
                }
            }));
            JsonObject stopped = result(first);
            assertEquals("cancelled", stopped.get("outcome").getAsString(), stopped.toString());
            assertTrue(stopped.getAsJsonObject("error").get("message").getAsString().contains("spoke again"), stopped.toString());
            JsonObject next = second.get(60, TimeUnit.SECONDS);
            assertEquals("done", next.get("outcome").getAsString(), next.toString());
            // The stopped turn's jobs ended cancelled on the workers (the bus's cancel path), not run to their end.
            List<String> cancelled = new ArrayList<>();
            Mqtt5Publish p;
            while ((p = states.poll(1, TimeUnit.SECONDS)) != null) {
                JsonObject s = JsonParser.parseString(new String(p.getPayloadAsBytes(), StandardCharsets.UTF_8)).getAsJsonObject();
                if ("cancelled".equals(s.get("state").getAsString())) {
                    cancelled.add(s.get("model").getAsString());
                }
            }
            assertTrue(!cancelled.isEmpty(), "a job of the stopped turn was cancelled on its worker");
            // What the visitor heard of the stopped answer is in the conversation before the next words.
            assertTrue(prompts().contains(stopped.get("text").getAsString().substring(0, 20)), "the interrupted answer is kept as far as it went");
        }
    }

    @Test
    void aDeviceOverMqttGetsTheTurnInMessagesItsBufferHolds() throws Exception {
        try (TestMqttClient device = TestMqttClient.connect(fleet.brokerAddress(), "lamp1")) {
            BlockingQueue<Mqtt5Publish> inbox = device.subscribe("axfleet/v1/reply/lamp1/#");
            String topic = "axfleet/v1/reply/lamp1/m1";
            // A PubSubClient's 256-byte buffer holds the topic too: 256 - 7 - the topic's length.
            int chunk = 256 - 7 - topic.length();
            device.publishUntilSubscribed("axfleet/v1/voice", "{\"id\":\"m1\",\"reply_to\":\"" + topic + "\",\"params\":"
                    + body("lamp1", ",\"response_sample_rate\":8000,\"chunk_bytes\":" + chunk) + "}", java.time.Duration.ofSeconds(10));
            List<JsonObject> got = collect(inbox, "m1");
            JsonObject result = got.get(got.size() - 1);
            assertEquals("done", result.get("outcome").getAsString(), result.toString());
            assertEquals(8000, result.get("sample_rate").getAsInt());
            long bytes = 0;
            boolean last = false;
            for (JsonObject e : got) {
                if (e.get("type").getAsString().equals("audio")) {
                    assertTrue(e.toString().getBytes(StandardCharsets.UTF_8).length <= chunk, "fits the device's buffer: " + e.toString().length());
                    bytes += Base64.getDecoder().decode(e.get("audio").getAsString()).length;
                    last = e.has("last");
                }
            }
            assertTrue(last, "the last audio message says the audio ended");
            assertEquals(bytes * 1000 / 2 / 8000, result.get("audio_ms").getAsLong());
            assertTrue(got.get(0).get("type").getAsString().equals("transcript"), got.get(0).toString());
        }
    }

    @Test
    void bargeInOverMqttStopsTheRunningTurn() throws Exception {
        try (TestMqttClient device = TestMqttClient.connect(fleet.brokerAddress(), "lamp2")) {
            BlockingQueue<Mqtt5Publish> inbox = device.subscribe("axfleet/v1/reply/lamp2/#");
            device.publishUntilSubscribed("axfleet/v1/voice", "{\"id\":\"b1\",\"reply_to\":\"axfleet/v1/reply/lamp2/b1\",\"params\":"
                    + body("lamp2", "") + "}", java.time.Duration.ofSeconds(10));
            List<JsonObject> first = new ArrayList<>();
            List<JsonObject> second = new ArrayList<>();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            boolean sent = false;
            while ((first.isEmpty() || !isResult(first)) || (sent && (second.isEmpty() || !isResult(second)))) {
                assertTrue(System.nanoTime() < deadline, "both turns answered within 60 s: " + first + second);
                Mqtt5Publish p = inbox.poll(1, TimeUnit.SECONDS);
                if (p == null) {
                    continue;
                }
                JsonObject e = JsonParser.parseString(new String(p.getPayloadAsBytes(), StandardCharsets.UTF_8)).getAsJsonObject();
                (e.get("id").getAsString().equals("b1") ? first : second).add(e);
                if (!sent && e.get("type").getAsString().equals("audio")) {
                    sent = true;
                    device.publish("axfleet/v1/voice", "{\"id\":\"b2\",\"reply_to\":\"axfleet/v1/reply/lamp2/b2\",\"params\":" + body("lamp2", "") + "}");
                }
            }
            assertEquals("cancelled", first.get(first.size() - 1).get("outcome").getAsString(), first.get(first.size() - 1).toString());
            assertEquals("done", second.get(second.size() - 1).get("outcome").getAsString());
        }
    }

    static boolean isResult(List<JsonObject> events) {
        return events.get(events.size() - 1).get("type").getAsString().equals("result");
    }

    static List<JsonObject> collect(BlockingQueue<Mqtt5Publish> inbox, String id) throws InterruptedException {
        List<JsonObject> out = new ArrayList<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            Mqtt5Publish p = inbox.poll(1, TimeUnit.SECONDS);
            if (p == null) {
                continue;
            }
            JsonObject e = JsonParser.parseString(new String(p.getPayloadAsBytes(), StandardCharsets.UTF_8)).getAsJsonObject();
            if (e.get("id").getAsString().equals(id)) {
                out.add(e);
                if (e.get("type").getAsString().equals("result")) {
                    return out;
                }
            }
        }
        throw new AssertionError("no result for " + id + " within 60 s: " + out);
    }

    @Test
    void badTurnsAreRefusedByFieldBeforeAnythingIsQueued() throws Exception {
        for (String[] bad : new String[][] {
                {"{\"audio\":\"" + wav64 + "\"}", "400", "conversation"},
                {"{\"conversation\":\"a/b\",\"audio\":\"" + wav64 + "\"}", "400", "conversation"},
                {"{\"conversation\":\"c\",\"audio\":\"bm90IGF1ZGlv\"}", "400", "audio"},
                {"{\"conversation\":\"c\"}", "400", "audio"},
                {body("c", ",\"voic\":\"en-default\""), "400", "voic"},
                {body("c", ",\"models\":{\"chat\":\"no-such-model\"}"), "404", "model"},
                {"not json", "400", null}}) {
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/v1/voice/turns"))
                    .POST(HttpRequest.BodyPublishers.ofString(bad[0])).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(Integer.parseInt(bad[1]), r.statusCode(), bad[0].length() > 80 ? bad[0].substring(0, 80) : bad[0]);
            JsonObject err = JsonParser.parseString(r.body()).getAsJsonObject().getAsJsonObject("error");
            assertNotNull(err.get("message"));
            if (bad[2] != null) {
                assertEquals(bad[2], err.get("param").getAsString(), r.body());
            }
        }
        try (TestMqttClient device = TestMqttClient.connect(fleet.brokerAddress(), "lamp3")) {
            BlockingQueue<Mqtt5Publish> inbox = device.subscribe("axfleet/v1/reply/lamp3/#");
            device.publishUntilSubscribed("axfleet/v1/voice", "{\"id\":\"x1\",\"reply_to\":\"axfleet/v1/reply/lamp3/x1\",\"params\":{\"audio\":\"AAAA\"}}",
                    java.time.Duration.ofSeconds(10));
            JsonObject refused = collect(inbox, "x1").get(0);
            assertEquals("error", refused.get("outcome").getAsString());
            assertEquals("params.conversation", refused.getAsJsonObject("error").get("field").getAsString());
            device.request("axfleet/v1/voice", "{not json", "axfleet/v1/reply/lamp3/x2", "x2".getBytes(StandardCharsets.UTF_8));
            JsonObject garbage = collect(inbox, "x2").get(0);
            assertEquals("payload", garbage.getAsJsonObject("error").get("field").getAsString(), "answered on the MQTT 5 response topic: " + garbage);
        }
    }

}
