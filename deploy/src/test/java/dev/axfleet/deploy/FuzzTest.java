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
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Generated bodies at every endpoint and generated payloads at the job topic, 10,000 of each (the image routes
 * 2,000 in a build, 10,000 with {@code -Dfuzz.image_tries=10000}): valid requests with one field changed to anything,
 * arbitrary JSON, and arbitrary text. Nothing may answer 5xx, every refusal is in the facade's own error format, and
 * the worker is not stuck afterwards. Values come from seeded generators ({@link Gen}, {@link Tries}): a failure names
 * the seed and try that reproduce it.
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

    @BeforeAll
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

    @AfterAll
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

    @Test
    void theOpenAiRouteAnswersAnythingWithoutA5xx() throws Exception {
        Tries.run("openai-chat", Tries.tries(), openAiBodies(), body -> {
            HttpResponse<String> r = post("/v1/chat/completions", body);
            assertTrue(r.statusCode() < 500, () -> r.statusCode() + " for " + body + "\n" + r.body());
            if (r.statusCode() >= 400) {
                JsonObject error = JsonParser.parseString(r.body()).getAsJsonObject().getAsJsonObject("error");
                assertTrue(error.has("message") && error.has("type"), r.body());
            }
        });
    }

    @Test
    void theOllamaChatRouteAnswersAnythingWithoutA5xx() throws Exception {
        Tries.run("ollama-chat", Tries.tries(), ollamaChatBodies(), body -> ollama("/api/chat", body));
    }

    @Test
    void theOllamaGenerateRouteAnswersAnythingWithoutA5xx() throws Exception {
        Tries.run("ollama-generate", Tries.tries(), ollamaGenerateBodies(), body -> ollama("/api/generate", body));
    }

    @Test
    void theOllamaShowRouteAnswersAnythingWithoutA5xx() throws Exception {
        Tries.run("ollama-show", Tries.tries(), showBodies(), body -> ollama("/api/show", body));
    }

    // The image routes run a whole (emulated) image per valid body: Tries.imageTries() each (1,000 in a build;
    // -Dfuzz.image_tries=10000 for the full run in docs/reliability.md).

    @Test
    void theAutomatic1111Txt2ImgRouteAnswersAnythingWithoutA5xx() throws Exception {
        Tries.run("a1111-txt2img", Tries.imageTries(), txt2imgBodies(), body -> detail("/sdapi/v1/txt2img", body));
    }

    @Test
    void theAutomatic1111Img2ImgRouteAnswersAnythingWithoutA5xx() throws Exception {
        Tries.run("a1111-img2img", Tries.imageTries(), img2imgBodies(), body -> detail("/sdapi/v1/img2img", body));
    }

    @Test
    void theStructuredInterrogationRouteAnswersAnythingWithoutA5xx() throws Exception {
        Tries.run("a1111-interrogate", Tries.imageTries(), interrogateBodies(), body -> detail("/sdapi/v1/interrogate/structured", body));
    }

    @Test
    void theGenerateRouteAnswersAnythingWithoutA5xx() throws Exception {
        Tries.run("generate", Tries.imageTries(), generateBodies(), body -> {
            HttpResponse<String> r = post("/generate", body);
            assertTrue(r.statusCode() < 500, () -> r.statusCode() + " for " + body + "\n" + r.body());
            JsonObject o = JsonParser.parseString(r.body()).getAsJsonObject();
            assertEquals(r.statusCode() == 200 ? "ok" : "error", o.get("status").getAsString(), r.body());
        });
    }

    @Test
    void theOpenAiImagesRouteAnswersAnythingWithoutA5xx() throws Exception {
        Tries.run("openai-images", Tries.imageTries(), openAiImageBodies(), body -> {
            HttpResponse<String> r = post("/v1/images/generations", body);
            assertTrue(r.statusCode() < 500, () -> r.statusCode() + " for " + body + "\n" + r.body());
            if (r.statusCode() >= 400) {
                JsonObject error = JsonParser.parseString(r.body()).getAsJsonObject().getAsJsonObject("error");
                assertTrue(error.has("message") && error.has("type"), r.body());
            }
        });
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

    /** Generated payloads on the job topic ({@link Tries#tries()}), as a careless device might send them; then a real job still runs. */
    @Test
    void theJobTopicTakesAnythingAndTheWorkerStillAnswers() throws Exception {
        try (TestMqttClient device = TestMqttClient.connect(fleet.brokerAddress(), "fuzzing-device")) {
            List<String> payloads = Tries.sample("job-topic", Tries.tries(), jobPayloads()).toList();
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

    Gen<String> openAiBodies() {
        JsonObject valid = JsonParser.parseString("{\"model\":\"" + MODEL + "\",\"max_tokens\":4,\"messages\":[{\"role\":\"system\","
                + "\"content\":\"be brief\"},{\"role\":\"user\",\"content\":\"hi\"}]}").getAsJsonObject();
        return bodies(valid, OPENAI_FIELDS);
    }

    Gen<String> ollamaChatBodies() {
        JsonObject valid = JsonParser.parseString("{\"model\":\"" + MODEL + "\",\"stream\":false,\"options\":{\"num_predict\":4},"
                + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}").getAsJsonObject();
        return bodies(valid, OLLAMA_FIELDS);
    }

    Gen<String> ollamaGenerateBodies() {
        JsonObject valid = JsonParser.parseString("{\"model\":\"" + MODEL + "\",\"stream\":false,\"options\":{\"num_predict\":4},"
                + "\"prompt\":\"hi\"}").getAsJsonObject();
        return bodies(valid, OLLAMA_FIELDS);
    }

    Gen<String> showBodies() {
        return bodies(JsonParser.parseString("{\"model\":\"" + MODEL + "\"}").getAsJsonObject(), OLLAMA_FIELDS);
    }

    Gen<String> txt2imgBodies() {
        return bodies(JsonParser.parseString("{\"prompt\":\"a fox\",\"seed\":1,\"steps\":4,\"width\":16,\"height\":16}").getAsJsonObject(),
                IMAGE_FIELDS);
    }

    Gen<String> img2imgBodies() {
        return bodies(JsonParser.parseString("{\"prompt\":\"a fox\",\"width\":16,\"height\":16,\"denoising_strength\":0.3,\"init_images\":[\""
                + TINY_PNG + "\"]}").getAsJsonObject(), IMAGE_FIELDS);
    }

    Gen<String> interrogateBodies() {
        return bodies(JsonParser.parseString("{\"image\":\"" + TINY_PNG + "\",\"categories\":{\"Age\":[\"young\",\"old\"]}}")
                .getAsJsonObject(), IMAGE_FIELDS);
    }

    Gen<String> generateBodies() {
        return bodies(JsonParser.parseString("{\"mode\":\"txt2img\",\"prompt\":\"a fox\",\"width\":16,\"height\":16}").getAsJsonObject(),
                IMAGE_FIELDS);
    }

    Gen<String> openAiImageBodies() {
        return bodies(JsonParser.parseString("{\"prompt\":\"a fox\",\"size\":\"16x16\",\"response_format\":\"b64_json\"}").getAsJsonObject(),
                IMAGE_FIELDS);
    }

    Gen<String> jobPayloads() {
        JsonObject valid = JsonParser.parseString("{\"id\":\"fuzz\",\"params\":{\"prompt\":\"hi\",\"max_tokens\":2}}").getAsJsonObject();
        return bodies(valid, List.of("id", "params", "reply_to", "stream", "created_at", "expires_at", "task", "model", "v"));
    }

    /** Mostly a valid body with one field (or one option, or one message field) changed to anything; some JSON; some text. */
    private static Gen<String> bodies(JsonObject valid, List<String> fields) {
        Gen<String> mutated = Gen.of(fields).flatMap(field -> json(3).orNull(0.15).map(value -> {
            JsonObject copy = valid.deepCopy();
            if (value == null) {
                copy.remove(field);
            } else {
                copy.add(field, value);
            }
            return copy.toString();
        }));
        Gen<String> messageField = Gen.of("role", "content");
        Gen<String> option = Gen.of(OPTION_FIELDS);
        Gen<JsonElement> optionValue = json(2);
        Gen<String> deep = r -> {
            String field = messageField.next(r);
            String name = option.next(r);
            JsonElement value = optionValue.next(r);
            JsonObject copy = valid.deepCopy();
            if (copy.has("messages")) {
                copy.getAsJsonArray("messages").get(0).getAsJsonObject().add(field, value);
            }
            JsonObject options = new JsonObject();
            options.add(name, value);
            copy.add(copy.has("params") ? "params" : "options", options);
            return copy.toString();
        };
        return Gen.weighted(
                6, mutated,
                2, deep,
                1, json(4).map(JsonElement::toString),
                1, Gen.strings(300));
    }

    /** Any JSON value, at most {@code depth} levels deep. */
    private static Gen<JsonElement> json(int depth) {
        Gen<JsonElement> leaf = Gen.oneOf(
                Gen.just(JsonNull.INSTANCE),
                Gen.of(true, false).map(JsonPrimitive::new),
                Gen.ints().map(JsonPrimitive::new),
                Gen.longs().map(JsonPrimitive::new),
                Gen.doubles().map(JsonPrimitive::new),
                Gen.of(-1, 0, 1, 2, 4, 1 << 20, Integer.MAX_VALUE).map(JsonPrimitive::new),
                Gen.strings(40).map(JsonPrimitive::new),
                Gen.of("user", "system", "assistant", "tool", MODEL, "", "qwen3-4b").map(JsonPrimitive::new));
        if (depth <= 0) {
            return leaf;
        }
        Gen<JsonElement> array = json(depth - 1).list(4).map(list -> {
            JsonArray a = new JsonArray();
            list.forEach(a::add);
            return a;
        });
        Gen<String> keys = Gen.oneOf(Gen.of("role", "content", "type", "text", "name", "temperature", "num_predict", "include_usage"),
                Gen.strings(8));
        Gen<JsonElement> object = Gen.maps(keys, json(depth - 1), 4).map(map -> {
            JsonObject o = new JsonObject();
            map.forEach(o::add);
            return o;
        });
        return Gen.weighted(5, leaf, 2, array, 2, object);
    }
}
