package dev.axfleet.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import dev.axfleet.broker.JobResult;
import dev.axfleet.broker.Outcome;
import dev.axfleet.broker.Topics;
import dev.axfleet.broker.WireCodec;
import dev.axfleet.broker.WorkerState;
import dev.axfleet.broker.testing.TestMqttClient;
import dev.axfleet.config.Settings;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Generated bodies at every endpoint and generated payloads at the job topic, 10,000 of each (the image routes
 * 2,000 in a build, 10,000 by hand): valid requests with one field changed to anything, arbitrary JSON, and
 * arbitrary text. Nothing may answer 5xx, every refusal is in the facade's own error format, and the worker is
 * not stuck afterwards.
 */
class FuzzTest {
    private static final String MODEL = "qwen3-1.7b";
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private static final List<String> OPENAI_FIELDS = List.of("model", "messages", "max_tokens", "max_completion_tokens", "temperature",
            "top_p", "stream", "stream_options", "stop", "n", "seed", "presence_penalty", "frequency_penalty", "tools", "tool_choice",
            "response_format", "logprobs", "user");
    private static final List<String> OLLAMA_FIELDS = List.of("model", "messages", "prompt", "system", "stream", "options", "format",
            "keep_alive", "think", "tools", "raw", "template", "context", "images", "name");
    private static final List<String> OPTION_FIELDS = List.of("temperature", "num_predict", "top_p", "top_k", "seed", "stop",
            "repeat_penalty", "num_ctx");

    private static final List<String> IMAGE_FIELDS = List.of("prompt", "negative_prompt", "seed", "steps", "cfg_scale", "sampler_name",
            "width", "height", "n_iter", "batch_size", "denoising_strength", "init_images", "init_image", "resize_mode", "mode", "strength",
            "restore_faces", "override_settings", "image", "categories", "size", "n", "response_format", "model");
    private static final String TINY_PNG = tinyPng();

    static Path home;
    static Fleet fleet;
    static String base;

    @BeforeContainer
    static void start() throws Exception {
        home = Files.createTempDirectory("axfleet-fuzz");
        fleet = Fleet.start(FleetConfig.from(Settings.of(Map.of(
                "fleet.home", home.toString(),
                "fleet.emulate", "true",
                "fleet.monitor", "false",
                "fleet.models", MODEL + "=Qwen3-1.7B",
                "emulator.time_scale", "0",
                "broker.embedded_port", "0",
                "gateway.port", "0",
                "gateway.request_timeout", "60s"))));
        base = "http://127.0.0.1:" + fleet.gatewayPort();
        TestFleets.awaitHealthy(base);
    }

    @AfterContainer
    static void stop() {
        if (fleet != null) {
            fleet.close();
        }
    }

    private static HttpResponse<String> post(String path, String body) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(90))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Property(tries = 10_000)
    void theOpenAiRouteAnswersAnythingWithoutA5xx(@ForAll("openAiBodies") String body) throws Exception {
        HttpResponse<String> r = post("/v1/chat/completions", body);
        assertTrue(r.statusCode() < 500, () -> r.statusCode() + " for " + body + "\n" + r.body());
        if (r.statusCode() >= 400) {
            JsonObject error = JsonParser.parseString(r.body()).getAsJsonObject().getAsJsonObject("error");
            assertTrue(error.has("message") && error.has("type"), r.body());
        }
    }

    @Property(tries = 10_000)
    void theOllamaChatRouteAnswersAnythingWithoutA5xx(@ForAll("ollamaChatBodies") String body) throws Exception {
        ollama("/api/chat", body);
    }

    @Property(tries = 10_000)
    void theOllamaGenerateRouteAnswersAnythingWithoutA5xx(@ForAll("ollamaGenerateBodies") String body) throws Exception {
        ollama("/api/generate", body);
    }

    @Property(tries = 10_000)
    void theOllamaShowRouteAnswersAnythingWithoutA5xx(@ForAll("showBodies") String body) throws Exception {
        ollama("/api/show", body);
    }

    // The image routes run a whole (emulated) image per valid body: jqwik.tries.default tries each (2,000 in
    // src/test/resources/junit-platform.properties; -Djqwik.tries.default=10000 for the full run in docs/reliability.md).

    @Property
    void theAutomatic1111Txt2ImgRouteAnswersAnythingWithoutA5xx(@ForAll("txt2imgBodies") String body) throws Exception {
        detail("/sdapi/v1/txt2img", body);
    }

    @Property
    void theAutomatic1111Img2ImgRouteAnswersAnythingWithoutA5xx(@ForAll("img2imgBodies") String body) throws Exception {
        detail("/sdapi/v1/img2img", body);
    }

    @Property
    void theStructuredInterrogationRouteAnswersAnythingWithoutA5xx(@ForAll("interrogateBodies") String body) throws Exception {
        detail("/sdapi/v1/interrogate/structured", body);
    }

    @Property
    void theGenerateRouteAnswersAnythingWithoutA5xx(@ForAll("generateBodies") String body) throws Exception {
        HttpResponse<String> r = post("/generate", body);
        assertTrue(r.statusCode() < 500, () -> r.statusCode() + " for " + body + "\n" + r.body());
        JsonObject o = JsonParser.parseString(r.body()).getAsJsonObject();
        assertEquals(r.statusCode() == 200 ? "ok" : "error", o.get("status").getAsString(), r.body());
    }

    @Property
    void theOpenAiImagesRouteAnswersAnythingWithoutA5xx(@ForAll("openAiImageBodies") String body) throws Exception {
        HttpResponse<String> r = post("/v1/images/generations", body);
        assertTrue(r.statusCode() < 500, () -> r.statusCode() + " for " + body + "\n" + r.body());
        if (r.statusCode() >= 400) {
            JsonObject error = JsonParser.parseString(r.body()).getAsJsonObject().getAsJsonObject("error");
            assertTrue(error.has("message") && error.has("type"), r.body());
        }
    }

    private static void detail(String path, String body) throws Exception {
        HttpResponse<String> r = post(path, body);
        assertTrue(r.statusCode() < 500, () -> r.statusCode() + " for " + body + "\n" + r.body());
        if (r.statusCode() >= 400) {
            assertTrue(JsonParser.parseString(r.body()).getAsJsonObject().get("detail").isJsonPrimitive(), r.body());
        }
    }

    private static String tinyPng() {
        try {
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            javax.imageio.ImageIO.write(new java.awt.image.BufferedImage(16, 16, java.awt.image.BufferedImage.TYPE_INT_RGB), "png", out);
            return java.util.Base64.getEncoder().encodeToString(out.toByteArray());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static void ollama(String path, String body) throws Exception {
        HttpResponse<String> r = post(path, body);
        assertTrue(r.statusCode() < 500, () -> r.statusCode() + " for " + body + "\n" + r.body());
        if (r.statusCode() >= 400) {
            assertTrue(JsonParser.parseString(r.body()).getAsJsonObject().get("error").isJsonPrimitive(), r.body());
        }
    }

    /** 10,000 generated payloads on the job topic, as a careless device might send them; then a real job still runs. */
    @Example
    void theJobTopicTakesAnythingAndTheWorkerStillAnswers() throws Exception {
        try (TestMqttClient device = TestMqttClient.connect(fleet.brokerAddress(), "fuzzing-device")) {
            List<String> payloads = jobPayloads().sampleStream().limit(10_000).toList();
            for (String p : payloads) {
                device.publish(Topics.jobs(MODEL), p);
            }
            BlockingQueue<Mqtt5Publish> reply = device.subscribe(Topics.reply("fuzzing-device", "after-fuzz"));
            device.publish(Topics.jobs(MODEL), "{\"id\":\"after-fuzz\",\"reply_to\":\"" + Topics.reply("fuzzing-device", "after-fuzz")
                    + "\",\"params\":{\"prompt\":\"still there?\",\"max_tokens\":4}}");
            JobResult r = TestMqttClient.await(reply, Duration.ofMinutes(5)).result();
            assertEquals(Outcome.DONE, r.outcome(), String.valueOf(r.error()));
            BlockingQueue<Mqtt5Publish> states = device.subscribe(Topics.workerStates());
            Mqtt5Publish s = states.poll(10, TimeUnit.SECONDS);
            assertEquals(WorkerState.Phase.READY, WireCodec.decodeWorkerState(s.getPayloadAsBytes()).phase());
        }
    }

    // ---- generators ----

    @Provide
    Arbitrary<String> openAiBodies() {
        JsonObject valid = JsonParser.parseString("{\"model\":\"" + MODEL + "\",\"max_tokens\":4,\"messages\":[{\"role\":\"system\","
                + "\"content\":\"be brief\"},{\"role\":\"user\",\"content\":\"hi\"}]}").getAsJsonObject();
        return bodies(valid, OPENAI_FIELDS);
    }

    @Provide
    Arbitrary<String> ollamaChatBodies() {
        JsonObject valid = JsonParser.parseString("{\"model\":\"" + MODEL + "\",\"stream\":false,\"options\":{\"num_predict\":4},"
                + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}").getAsJsonObject();
        return bodies(valid, OLLAMA_FIELDS);
    }

    @Provide
    Arbitrary<String> ollamaGenerateBodies() {
        JsonObject valid = JsonParser.parseString("{\"model\":\"" + MODEL + "\",\"stream\":false,\"options\":{\"num_predict\":4},"
                + "\"prompt\":\"hi\"}").getAsJsonObject();
        return bodies(valid, OLLAMA_FIELDS);
    }

    @Provide
    Arbitrary<String> showBodies() {
        return bodies(JsonParser.parseString("{\"model\":\"" + MODEL + "\"}").getAsJsonObject(), OLLAMA_FIELDS);
    }

    @Provide
    Arbitrary<String> txt2imgBodies() {
        return bodies(JsonParser.parseString("{\"prompt\":\"a fox\",\"seed\":1,\"steps\":4,\"width\":16,\"height\":16}").getAsJsonObject(),
                IMAGE_FIELDS);
    }

    @Provide
    Arbitrary<String> img2imgBodies() {
        return bodies(JsonParser.parseString("{\"prompt\":\"a fox\",\"width\":16,\"height\":16,\"denoising_strength\":0.3,\"init_images\":[\""
                + TINY_PNG + "\"]}").getAsJsonObject(), IMAGE_FIELDS);
    }

    @Provide
    Arbitrary<String> interrogateBodies() {
        return bodies(JsonParser.parseString("{\"image\":\"" + TINY_PNG + "\",\"categories\":{\"Age\":[\"young\",\"old\"]}}")
                .getAsJsonObject(), IMAGE_FIELDS);
    }

    @Provide
    Arbitrary<String> generateBodies() {
        return bodies(JsonParser.parseString("{\"mode\":\"txt2img\",\"prompt\":\"a fox\",\"width\":16,\"height\":16}").getAsJsonObject(),
                IMAGE_FIELDS);
    }

    @Provide
    Arbitrary<String> openAiImageBodies() {
        return bodies(JsonParser.parseString("{\"prompt\":\"a fox\",\"size\":\"16x16\",\"response_format\":\"b64_json\"}").getAsJsonObject(),
                IMAGE_FIELDS);
    }

    Arbitrary<String> jobPayloads() {
        JsonObject valid = JsonParser.parseString("{\"id\":\"fuzz\",\"params\":{\"prompt\":\"hi\",\"max_tokens\":2}}").getAsJsonObject();
        return bodies(valid, List.of("id", "params", "reply_to", "stream", "created_at", "expires_at", "task", "model", "v"));
    }

    /** Mostly a valid body with one field (or one option, or one message field) changed to anything; some JSON; some text. */
    private static Arbitrary<String> bodies(JsonObject valid, List<String> fields) {
        Arbitrary<String> mutated = Arbitraries.of(fields).flatMap(field -> json(3).injectNull(0.15).map(value -> {
            JsonObject copy = valid.deepCopy();
            if (value == null) {
                copy.remove(field);
            } else {
                copy.add(field, value);
            }
            return copy.toString();
        }));
        Arbitrary<String> deep = Combinators.combine(Arbitraries.of("role", "content"), Arbitraries.of(OPTION_FIELDS), json(2))
                .as((messageField, option, value) -> {
                    JsonObject copy = valid.deepCopy();
                    if (copy.has("messages")) {
                        copy.getAsJsonArray("messages").get(0).getAsJsonObject().add(messageField, value);
                    }
                    JsonObject options = new JsonObject();
                    options.add(option, value);
                    copy.add(copy.has("params") ? "params" : "options", options);
                    return copy.toString();
                });
        return Arbitraries.frequencyOf(
                Tuple.of(6, mutated),
                Tuple.of(2, deep),
                Tuple.of(1, json(4).map(JsonElement::toString)),
                Tuple.of(1, Arbitraries.strings().ofMaxLength(300)));
    }

    /** Any JSON value, at most {@code depth} levels deep. */
    private static Arbitrary<JsonElement> json(int depth) {
        Arbitrary<JsonElement> leaf = Arbitraries.oneOf(
                Arbitraries.just(JsonNull.INSTANCE),
                Arbitraries.of(true, false).map(JsonPrimitive::new),
                Arbitraries.integers().map(JsonPrimitive::new),
                Arbitraries.longs().map(JsonPrimitive::new),
                Arbitraries.doubles().map(JsonPrimitive::new),
                Arbitraries.of(-1, 0, 1, 2, 4, 1 << 20, Integer.MAX_VALUE).map(JsonPrimitive::new),
                Arbitraries.strings().ofMaxLength(40).map(JsonPrimitive::new),
                Arbitraries.of("user", "system", "assistant", "tool", MODEL, "", "qwen3-4b").map(JsonPrimitive::new));
        if (depth <= 0) {
            return leaf;
        }
        Arbitrary<JsonElement> array = json(depth - 1).list().ofMaxSize(4).map(list -> {
            JsonArray a = new JsonArray();
            list.forEach(a::add);
            return a;
        });
        Arbitrary<JsonElement> object = Arbitraries.maps(Arbitraries.oneOf(Arbitraries.of("role", "content", "type", "text", "name",
                "temperature", "num_predict", "include_usage"), Arbitraries.strings().ofMaxLength(8)), json(depth - 1)).ofMaxSize(4)
                .map(map -> {
                    JsonObject o = new JsonObject();
                    map.forEach(o::add);
                    return o;
                });
        return Arbitraries.frequencyOf(Tuple.of(5, leaf), Tuple.of(2, array), Tuple.of(2, object));
    }
}
