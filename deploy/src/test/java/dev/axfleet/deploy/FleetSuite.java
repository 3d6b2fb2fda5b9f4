package dev.axfleet.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.errors.BadRequestException;
import com.openai.errors.NotFoundException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.models.Model;
import dev.axfleet.broker.Topics;
import dev.axfleet.broker.WireCodec;
import dev.axfleet.broker.testing.TestBroker;
import dev.axfleet.broker.testing.TestMqttClient;
import dev.axfleet.broker.testing.TestTools;
import dev.axfleet.config.Settings;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The whole fleet as {@code axfleet up} starts it (gateway, broker, worker, emulated runtime), driven by the
 * clients installations use: the official OpenAI Java SDK, plain HTTP, and the mosquitto command-line
 * clients as docs/protocol.md shows them. Runs once on the embedded broker and once on Mosquitto.
 */
abstract class FleetSuite {
    static final String MODEL = "qwen3-1.7b";
    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    static TestBroker broker;
    static Fleet fleet;
    static OpenAIClient openai;
    static String base;

    /** Starts the fleet on {@code testBroker}; called by each subclass's @BeforeAll. */
    static void startFleet(TestBroker testBroker, Path home) throws Exception {
        broker = testBroker;
        fleet = Fleet.start(FleetConfig.from(Settings.of(Map.of(
                "fleet.home", home.toString(),
                "fleet.emulate", "true",
                "fleet.models", MODEL + "=Qwen3-1.7B",
                "emulator.time_scale", "0.05",
                "broker.url", "mqtt://127.0.0.1:" + broker.address().port(),
                "gateway.port", "0",
                "gateway.keep_alive", "1s"))));
        base = "http://127.0.0.1:" + fleet.gatewayPort();
        openai = OpenAIOkHttpClient.builder().baseUrl(base + "/v1").apiKey("not-needed").build();
        TestFleets.awaitHealthy(base);
    }

    @AfterAll
    static void stopFleet() {
        if (fleet != null) {
            fleet.close();
        }
        if (broker != null) {
            broker.close();
        }
    }

    /** The coyote's OpenAI call (../shared/clients.md §5): temperature 0.9, max_tokens 125, top_p 0.95, penalties 0, no stop. */
    static ChatCompletionCreateParams coyote(int messages) {
        ChatCompletionCreateParams.Builder b = ChatCompletionCreateParams.builder()
                .model(MODEL)
                .temperature(0.9)
                .maxTokens(125)
                .topP(0.95)
                .frequencyPenalty(0.0)
                .presencePenalty(0.0)
                .addSystemMessage("You are a talking coyote in a museum. Answer in one or two sentences.");
        for (int i = 1; i < messages - 1; i++) {
            if (i % 2 == 1) {
                b.addUserMessage("Visitor question number " + i + ": what do you see in the desert tonight?");
            } else {
                b.addAssistantMessage("I see the moon over red rock, answer " + i + ".");
            }
        }
        return b.addUserMessage("And what do you hear now?").build();
    }

    @Test
    void theOpenAiSdkRunsTheCoyoteCallWithAFiveMessageHistory() {
        ChatCompletion c = openai.chat().completions().create(coyote(5));
        String content = c.choices().get(0).message().content().orElseThrow();
        assertTrue(content.startsWith("(emulated Qwen3-1.7B)"), content);
        assertEquals(ChatCompletion.Choice.FinishReason.STOP, c.choices().get(0).finishReason());
        assertTrue(c.usage().orElseThrow().promptTokens() > 30);
        assertEquals(MODEL, c.model());
    }

    @Test
    void theOpenAiSdkStreamsAFiftyMessageHistoryAndGetsTheSameAnswerAsWithoutStreaming() {
        ChatCompletionCreateParams params = coyote(50);
        String plain = openai.chat().completions().create(params).choices().get(0).message().content().orElseThrow();
        StringBuilder streamed = new StringBuilder();
        List<String> finishes = new ArrayList<>();
        try (StreamResponse<ChatCompletionChunk> stream = openai.chat().completions().createStreaming(params)) {
            stream.stream().forEach(chunk -> chunk.choices().forEach(choice -> {
                choice.delta().content().ifPresent(streamed::append);
                choice.finishReason().ifPresent(f -> finishes.add(f.asString()));
            }));
        }
        assertEquals(plain, streamed.toString(), "the emulated model is deterministic: streamed and plain answers match");
        assertEquals(List.of("stop"), finishes);
    }

    @Test
    void aStreamHasTheRoleChunkFirstTheUsageChunkLastThenDone() throws Exception {
        HttpResponse<String> r = post("/v1/chat/completions", "{\"model\":\"" + MODEL + "\",\"stream\":true,\"max_tokens\":4,"
                + "\"stream_options\":{\"include_usage\":true},\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}");
        assertEquals(200, r.statusCode());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream"));
        List<String> events = r.body().lines().filter(l -> l.startsWith("data: ")).map(l -> l.substring(6)).toList();
        assertEquals("[DONE]", events.get(events.size() - 1));
        JsonObject first = JsonParser.parseString(events.get(0)).getAsJsonObject();
        assertEquals("assistant", first.getAsJsonArray("choices").get(0).getAsJsonObject().getAsJsonObject("delta").get("role").getAsString());
        JsonObject usage = JsonParser.parseString(events.get(events.size() - 2)).getAsJsonObject();
        assertEquals(0, usage.getAsJsonArray("choices").size());
        assertEquals(4, usage.getAsJsonObject("usage").get("completion_tokens").getAsInt());
        JsonObject finish = JsonParser.parseString(events.get(events.size() - 3)).getAsJsonObject();
        assertEquals("length", finish.getAsJsonArray("choices").get(0).getAsJsonObject().get("finish_reason").getAsString());
        String id = first.get("id").getAsString();
        events.subList(0, events.size() - 1).forEach(e -> assertEquals(id, JsonParser.parseString(e).getAsJsonObject().get("id").getAsString()));
    }

    @Test
    void theModelListSaysTheModelsAreEmulated() {
        List<Model> models = openai.models().list().data();
        assertEquals(List.of(MODEL, "sd15-lcm"), models.stream().map(Model::id).sorted().toList(), "the chat model and the image model");
        models.forEach(m -> assertTrue(m.ownedBy().contains("EMULATED"), m.ownedBy()));
    }

    @Test
    void theMonitorWatchesTheEmulatedCardAndHealthAndMetricsShowIt() throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        String health = get("/health").body();
        while (!health.contains("\"probe\":\"axcl-smi\"")) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no card in /health: " + health);
            }
            Thread.sleep(200);
            health = get("/health").body();
        }
        assertTrue(health.contains("\"state\":\"ok\"") && health.contains("\"emulated\":true") && health.contains("\"temperature_c\":41.0"),
                health);
        String metrics = get("/metrics").body();
        // Prometheus' client writes labels in name order: card, emulated, host.
        assertTrue(metrics.lines().anyMatch(l -> l.startsWith("axfleet_card_temperature_celsius{") && l.contains("emulated=\"true\"")
                && l.endsWith("} 41.0")), metrics);
    }

    @Test
    void anUnknownModelIsA404InOpenAisShape() {
        NotFoundException e = assertThrows(NotFoundException.class,
                () -> openai.chat().completions().create(ChatCompletionCreateParams.builder().model("gpt-4o").addUserMessage("hi").build()));
        assertEquals("model_not_found", e.code().orElseThrow());
        assertTrue(e.getMessage().contains(MODEL), "the error names the models there are");
    }

    @Test
    void moreThanOneChoiceIsA400NamingN() {
        BadRequestException e = assertThrows(BadRequestException.class,
                () -> openai.chat().completions().create(ChatCompletionCreateParams.builder().model(MODEL).n(2).addUserMessage("hi").build()));
        assertEquals("n", e.param().orElseThrow());
    }

    @Test
    void aPromptBeyondTheContextIsA400ContextLengthExceeded() {
        BadRequestException e = assertThrows(BadRequestException.class, () -> openai.chat().completions()
                .create(ChatCompletionCreateParams.builder().model(MODEL).addUserMessage("word ".repeat(3000)).build()));
        assertEquals("context_length_exceeded", e.code().orElseThrow());
    }

    @Test
    void aHistoryLongerThanTheContextIsAnsweredWithoutItsOldestTurnsAndTheHeaderSaysHowMany() throws Exception {
        StringBuilder messages = new StringBuilder("[{\"role\":\"system\",\"content\":\"You are the coyote.\"}");
        for (int turn = 0; turn < 30; turn++) {
            messages.append(",{\"role\":\"user\",\"content\":\"").append("sand ".repeat(80)).append("\"}")
                    .append(",{\"role\":\"assistant\",\"content\":\"").append("moon ".repeat(80)).append("\"}");
        }
        messages.append(",{\"role\":\"user\",\"content\":\"and now?\"}]");
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/v1/chat/completions"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"" + MODEL + "\",\"max_tokens\":8,\"messages\":" + messages + "}"))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        int dropped = Integer.parseInt(r.headers().firstValue("X-Axfleet-Dropped-Messages").orElse("0"));
        assertTrue(dropped >= 2 && dropped % 2 == 0, "whole turns dropped: " + dropped);
    }

    @Test
    void aCallerThatLeavesMidStreamCancelsItsJob() throws Exception {
        try (TestMqttClient watcher = TestMqttClient.connect(broker.address(), "watcher")) {
            BlockingQueue<Mqtt5Publish> status = watcher.subscribe(Topics.statusAll());
            HttpResponse<InputStream> r = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/v1/chat/completions"))
                    .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"" + MODEL + "\",\"stream\":true,"
                            + "\"messages\":[{\"role\":\"user\",\"content\":\"Tell me a long story, then leave.\"}]}")).build(),
                    HttpResponse.BodyHandlers.ofInputStream());
            try (BufferedReader reader = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
                assertTrue(reader.readLine().startsWith("data: "), "the stream started");
            }
            boolean cancelled = false;
            for (int i = 0; i < 200 && !cancelled; i++) {
                Mqtt5Publish p = status.poll(100, TimeUnit.MILLISECONDS);
                cancelled = p != null && new String(p.getPayloadAsBytes(), StandardCharsets.UTF_8).contains("\"state\":\"cancelled\"");
            }
            assertTrue(cancelled, "the worker reported the job cancelled");
        }
    }

    @Test
    void mosquittoPubAndSubWorkAsTheProtocolDocumentSays() throws Exception {
        TestTools.require("mosquitto_pub and mosquitto_sub", "apt-get install mosquitto-clients", Files.isExecutable(Path.of("/usr/bin/mosquitto_sub")));
        String port = String.valueOf(broker.address().port());
        Process listener = new ProcessBuilder("mosquitto_sub", "-h", "127.0.0.1", "-p", port, "-q", "1",
                "-t", "axfleet/v1/reply/doc/j1", "-C", "1", "-W", "30").redirectErrorStream(true).start();
        Thread.sleep(500);
        Process pub = new ProcessBuilder("mosquitto_pub", "-h", "127.0.0.1", "-p", port, "-q", "1",
                "-t", "axfleet/v1/jobs/" + MODEL,
                "-m", "{\"id\":\"j1\",\"reply_to\":\"axfleet/v1/reply/doc/j1\",\"params\":{\"prompt\":\"Say hello\"}}")
                .redirectErrorStream(true).start();
        assertEquals(0, pub.waitFor(), new String(pub.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
        assertTrue(listener.waitFor(40, TimeUnit.SECONDS));
        String out = new String(listener.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        JsonObject result = JsonParser.parseString(out).getAsJsonObject();
        assertEquals("result", result.get("type").getAsString());
        assertEquals("done", result.get("outcome").getAsString());
        assertEquals("j1", result.get("id").getAsString());
        assertFalse(result.get("text").getAsString().isEmpty());
        assertNotNull(WireCodec.decodeReply(out.getBytes(StandardCharsets.UTF_8)));
    }

    static HttpResponse<String> get(String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(base + path)).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    static HttpResponse<String> post(String path, String body) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(base + path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }
}
