package dev.axfleet.deploy;

import static dev.axfleet.deploy.TestFleets.json;
import static dev.axfleet.deploy.TestFleets.node;
import static dev.axfleet.deploy.TestFleets.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import dev.axfleet.broker.Kind;
import dev.axfleet.broker.Topics;
import dev.axfleet.broker.embed.Embeddings;
import dev.axfleet.broker.testing.TestBroker;
import dev.axfleet.broker.testing.TestMqttClient;
import dev.axfleet.config.Settings;
import dev.axfleet.deploy.models.ModelCatalog;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Embeddings through the whole fleet as {@code axfleet up} starts it by default (a chat and an embedding model, both
 * emulated): the official openai and ollama JavaScript clients, a device over MQTT, and bad input refused in each
 * facade's shape.
 */
class EmbeddingsTest {
    static final String MODEL = "qwen3-embedding-0.6b";
    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    @TempDir
    static Path dir;
    static TestBroker broker;
    static Fleet fleet;
    static String base;

    @BeforeAll
    static void start() throws Exception {
        broker = TestBroker.embedded(dir.resolve("broker"));
        fleet = Fleet.start(FleetConfig.from(Settings.of(Map.of(
                "fleet.home", dir.resolve("home").toString(),
                "fleet.emulate", "true",
                "fleet.image_model", "",
                "fleet.monitor", "false",
                "emulator.time_scale", "0.01",
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

    static HttpResponse<String> post(String path, String body) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(base + path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void theDefaultSetHasOneModelOfEachKindTheEmulatorServesAndFitsTheCardTogether() {
        FleetConfig defaults = FleetConfig.from(Settings.of(Map.of()));
        assertEquals(List.of(Kind.CHAT, Kind.EMBEDDING, Kind.TRANSCRIPTION, Kind.SPEECH, Kind.IMAGE), defaults.models().stream().map(FleetConfig.Model::kind).toList());
        ModelCatalog catalog = ModelCatalog.builtIn();
        int used = 0;
        for (FleetConfig.Model m : defaults.models()) {
            used += catalog.find(m.id()).or(() -> catalog.find("lcm-lora-sdv1-5")).orElseThrow().cmmMib();
        }
        assertTrue(used + 128 <= ModelCatalog.CARD_CMM_MIB, "the default set takes " + used + " MiB of the card's " + ModelCatalog.CARD_CMM_MIB);
    }

    @Test
    void theOfficialJavaScriptClientsGetEmbeddingsAndRefusalsInTheirShapes() throws Exception {
        JsonObject o = json(run(node(), "embeddings-clients.mjs", base, MODEL));
        JsonObject byDefault = o.getAsJsonObject("byDefault");
        assertEquals(2, byDefault.get("count").getAsInt());
        assertEquals(1024, byDefault.get("dims").getAsInt(), "base64, as the npm client asks by default, decoded by it");
        assertEquals(1.0, byDefault.get("norm").getAsDouble(), 1e-5);
        sameFloats(byDefault.getAsJsonArray("first"), o.getAsJsonObject("floats").getAsJsonArray("first"), "float and base64 carry the same values");
        assertEquals(64, o.getAsJsonObject("short").get("dims").getAsInt());
        assertEquals(1.0, o.getAsJsonObject("short").get("norm").getAsDouble(), 1e-5);
        sameFloats(byDefault.getAsJsonArray("first"), o.getAsJsonObject("embed").getAsJsonArray("first"), "Ollama's /api/embed: the same vectors");
        sameFloats(byDefault.getAsJsonArray("first"), o.getAsJsonObject("old").getAsJsonArray("first"), "and the older /api/embeddings");
        assertTrue(o.getAsJsonObject("embed").get("promptEvalCount").getAsInt() > 0);
        assertEquals(400, o.getAsJsonObject("refused").get("status").getAsInt());
        assertEquals("input", o.getAsJsonObject("refused").get("param").getAsString());
        assertEquals(400, o.getAsJsonObject("tooMany").get("status").getAsInt());
        assertEquals("[\"embedding\"]", o.get("capabilities").toString());
        assertTrue(o.getAsJsonArray("models").toString().contains(MODEL), o.toString());
    }

    /** The same float32 values, however a client prints them (base64 decoded to doubles, or JSON numbers). */
    static void sameFloats(JsonArray a, JsonArray b, String what) {
        assertEquals(a.size(), b.size(), what);
        for (int i = 0; i < a.size(); i++) {
            assertEquals(a.get(i).getAsFloat(), b.get(i).getAsFloat(), what + " at " + i);
        }
    }

    @Test
    void aDeviceOverMqttGetsEmbeddingsFromTheSameQueue() throws Exception {
        try (TestMqttClient device = TestMqttClient.connect(broker.address(), "lamp-7")) {
            String reply = "lamps/7/embeddings";
            BlockingQueue<Mqtt5Publish> inbox = device.subscribe(reply);
            device.publish(Topics.jobs(MODEL), "{\"id\":\"e1\",\"task\":\"embed\",\"reply_to\":\"" + reply
                    + "\",\"params\":{\"input\":[\"a red fox\",\"a grey wolf\"],\"dimensions\":8}}");
            Embeddings e = TestMqttClient.await(inbox, Duration.ofSeconds(30)).result().output(Embeddings.class);
            assertEquals(2, e.vectors().size());
            assertEquals(8, e.dimensions());
        }
    }

    @Test
    void badInputIsRefusedInEachFacadesShape() throws Exception {
        String bigString = "x".repeat(1_000_000);
        for (String body : List.of("{\"model\":\"" + MODEL + "\",\"input\":\"\"}", "{\"model\":\"" + MODEL + "\",\"input\":[1,2,3]}",
                "{\"model\":\"" + MODEL + "\",\"input\":{\"text\":\"x\"}}", "{\"model\":\"" + MODEL + "\",\"input\":\"" + bigString + "\"}",
                "{\"model\":\"" + MODEL + "\",\"input\":\"x\",\"encoding_format\":\"int8\"}", "{\"input\":\"x\"}")) {
            HttpResponse<String> r = post("/v1/embeddings", body);
            assertEquals(400, r.statusCode(), r.body());
            JsonObject error = JsonParser.parseString(r.body()).getAsJsonObject().getAsJsonObject("error");
            assertEquals("invalid_request_error", error.get("type").getAsString(), r.body());
        }
        HttpResponse<String> chatModel = post("/v1/embeddings", "{\"model\":\"qwen3-0.6b\",\"input\":\"x\"}");
        assertEquals(400, chatModel.statusCode());
        assertTrue(chatModel.body().contains("a chat model") && chatModel.body().contains(MODEL), chatModel.body());
        HttpResponse<String> unknown = post("/v1/embeddings", "{\"model\":\"text-embedding-3-small\",\"input\":\"x\"}");
        assertEquals(404, unknown.statusCode());
        JsonArray many = new JsonArray();
        for (int i = 0; i < 10_000; i++) {
            many.add("text " + i);
        }
        for (String body : List.of("{\"model\":\"" + MODEL + "\",\"input\":" + many + "}", "{\"model\":\"" + MODEL + "\",\"input\":[1,2]}",
                "{\"model\":\"" + MODEL + "\",\"input\":\"" + bigString + "\"}", "{\"model\":\"" + MODEL + "\",\"input\":\"x\",\"dimensions\":\"big\"}")) {
            HttpResponse<String> r = post("/api/embed", body);
            assertEquals(400, r.statusCode(), r.body());
            assertTrue(JsonParser.parseString(r.body()).getAsJsonObject().has("error"), "Ollama's {\"error\"}: " + r.body());
        }
        HttpResponse<String> load = post("/api/embed", "{\"model\":\"" + MODEL + ":latest\"}");
        assertEquals(200, load.statusCode(), "no input is Ollama's load call");
        assertEquals("[]", JsonParser.parseString(load.body()).getAsJsonObject().get("embeddings").toString());
        HttpResponse<String> tooLong = post("/v1/embeddings", "{\"model\":\"" + MODEL + "\",\"input\":\"" + "word ".repeat(12_000) + "\"}");
        assertEquals(400, tooLong.statusCode(), "OpenAI refuses an input longer than the context: " + tooLong.body());
        HttpResponse<String> cut = post("/api/embed", "{\"model\":\"" + MODEL + "\",\"input\":\"" + "word ".repeat(12_000) + "\"}");
        assertEquals(200, cut.statusCode(), "Ollama cuts it (truncate defaults to true): " + cut.body());
    }

    @Test
    void namesResolveWithOrWithoutLatestOnEveryRoute() throws Exception {
        HttpResponse<String> openAi = post("/v1/embeddings", "{\"model\":\"" + MODEL + ":latest\",\"input\":\"x\"}");
        assertEquals(200, openAi.statusCode(), openAi.body());
        HttpResponse<String> chat = post("/v1/chat/completions", "{\"model\":\"qwen3-0.6b:latest\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
        assertEquals(200, chat.statusCode(), "a name from /api/tags works on /v1 too: " + chat.body());
    }
}
