package dev.axfleet.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import dev.axfleet.broker.Topics;
import dev.axfleet.broker.WireCodec;
import dev.axfleet.broker.testing.TestBroker;
import dev.axfleet.broker.testing.TestMqttClient;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The gateway on a real broker over real HTTP, with a model configured but no worker running: what a
 * caller gets for bad input, a full queue and a job nobody answers, and what reaches the bus.
 */
class GatewayTest {
    static final String MODEL = "qwen3-1.7b";
    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @TempDir
    static Path dir;
    static TestBroker broker;
    static Gateway gateway;
    static TestMqttClient bus;

    @BeforeAll
    static void start() {
        broker = TestBroker.embedded(dir);
        gateway = TestGateways.start(broker, Map.of(
                "gateway.models", MODEL,
                "gateway.request_timeout", "1s",
                "gateway.max_pending_per_model", "3",
                "gateway.max_body_bytes", "2000",
                "gateway.max_image_body_bytes", "4000"));
        bus = TestMqttClient.connect(broker.address(), "observer");
    }

    @AfterAll
    static void stop() {
        bus.close();
        gateway.close();
        broker.close();
    }

    static HttpResponse<String> post(String body) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.port() + "/v1/chat/completions"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    static JsonObject error(HttpResponse<String> r) {
        JsonObject e = JsonParser.parseString(r.body()).getAsJsonObject().getAsJsonObject("error");
        assertNotNull(e.get("message"));
        assertTrue(e.has("type") && e.has("param") && e.has("code"), "OpenAI's four error keys: " + e);
        return e;
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "not json at all                                                                        | 400 |",
            "[1,2]                                                                                  | 400 |",
            "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}                                | 400 | model",
            "{\"model\":\"qwen3-1.7b\"}                                                             | 400 | messages",
            "{\"model\":\"qwen3-1.7b\",\"messages\":[]}                                             | 400 | messages",
            "{\"model\":\"qwen3-1.7b\",\"messages\":[{\"role\":\"wizard\",\"content\":\"hi\"}]}     | 400 | messages[0].role",
            "{\"model\":\"qwen3-1.7b\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"input_audio\"}]}]} | 400 | messages[0].content[0].type",
            "{\"model\":\"qwen3-1.7b\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\"}]}]} | 400 | messages[0].content[0].image_url",
            "{\"model\":\"qwen3-1.7b\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"temperature\":5} | 400 | temperature",
            "{\"model\":\"qwen3-1.7b\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":-1} | 400 | max_tokens",
            "{\"model\":\"qwen3-1.7b\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"stop\":[1]}     | 400 | stop",
            "{\"model\":\"qwen3-1.7b\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"tools\":[{}]}   | 400 | tools[0].function",
            "{\"model\":\"qwen3-1.7b\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"response_format\":{\"type\":\"xml\"}} | 400 | response_format.type",
            "{\"model\":\"qwen3-1.7b\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"x\",\"schema\":{\"type\":5}}}} | 400 | response_format.json_schema.schema",
            "{\"model\":\"qwen3-1.7b\",\"messages\":[{\"role\":\"tool\",\"tool_call_id\":\"c9\",\"content\":\"x\"}]} | 400 | messages",
            "{\"model\":\"dall-e\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}           | 404 | model",
    })
    void badRequestsGetA4xxInOpenAisShapeNamingTheField(String body, int status, String param) throws Exception {
        HttpResponse<String> r = post(body.trim());
        assertEquals(status, r.statusCode(), r.body());
        assertEquals("application/json", r.headers().firstValue("Content-Type").orElse(""));
        JsonObject e = error(r);
        if (param != null) {
            assertEquals(param, e.get("param").getAsString());
        }
    }

    @Test
    void aBodyOverTheLimitIs413() throws Exception {
        // Chat bodies may carry images: they are bounded as the image routes' are (gateway.max_image_body_bytes).
        HttpResponse<String> r = post("{\"model\":\"qwen3-1.7b\",\"messages\":[{\"role\":\"user\",\"content\":\"" + "x".repeat(5000) + "\"}]}");
        assertEquals(413, r.statusCode());
        assertEquals("request_too_large", error(r).get("code").getAsString());
    }

    @Test
    void anUnknownRouteIsA404InOpenAisShape() throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.port() + "/v1/nothing")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(404, r.statusCode());
        error(r);
    }

    @Test
    void aJobNobodyAnswersIsA504ThatTellsTheSdkNotToRetryAndIsCancelledOnTheBus() throws Exception {
        BlockingQueue<Mqtt5Publish> jobs = bus.subscribe(Topics.jobs(MODEL));
        BlockingQueue<Mqtt5Publish> cancels = bus.subscribe(Topics.cancel(MODEL));
        HttpResponse<String> r = post("{\"model\":\"qwen3-1.7b\",\"messages\":[{\"role\":\"user\",\"content\":\"anyone?\"}]}");
        assertEquals(504, r.statusCode());
        assertEquals("false", r.headers().firstValue("X-Should-Retry").orElse(""));
        Mqtt5Publish job = jobs.poll(5, TimeUnit.SECONDS);
        assertNotNull(job, "the request became a job on the model's topic");
        String id = WireCodec.decodeJob(job.getTopic().toString(), job.getPayloadAsBytes(), null, null).id();
        assertTrue(job.getResponseTopic().isPresent() && job.getCorrelationData().isPresent(), "MQTT 5 request/response properties set");
        Mqtt5Publish cancel = cancels.poll(5, TimeUnit.SECONDS);
        assertNotNull(cancel);
        assertEquals(id, WireCodec.decodeCancel(cancel.getPayloadAsBytes()).orElseThrow());
    }

    @Test
    void aFullQueueIs503WithRetryAfterAndNothingQueued() throws Exception {
        List<CompletableFuture<HttpResponse<String>>> waiting = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            waiting.add(HTTP.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.port() + "/v1/chat/completions"))
                    .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"qwen3-1.7b\",\"messages\":[{\"role\":\"user\",\"content\":\"" + i + "\"}]}"))
                    .build(), HttpResponse.BodyHandlers.ofString()));
        }
        Thread.sleep(300);
        HttpResponse<String> r = post("{\"model\":\"qwen3-1.7b\",\"messages\":[{\"role\":\"user\",\"content\":\"one too many\"}]}");
        assertEquals(503, r.statusCode());
        assertEquals("5", r.headers().firstValue("Retry-After").orElse(""));
        for (CompletableFuture<HttpResponse<String>> w : waiting) {
            assertEquals(504, w.get(10, TimeUnit.SECONDS).statusCode());
        }
    }

    @Test
    void aTakenPortIsSaidSoWithWhatToDo() {
        int taken = gateway.port();
        dev.axfleet.config.StartupException e = org.junit.jupiter.api.Assertions.assertThrows(dev.axfleet.config.StartupException.class,
                () -> TestGateways.start(broker, Map.of("gateway.port", String.valueOf(taken))));
        assertEquals("port " + taken + " is taken: another program listens on 127.0.0.1:" + taken + " (sudo ss -ltnp 'sport = :" + taken
                + "' names it; another axfleet gateway or ./axfleet up?); stop it, or set gateway.port", e.getMessage());
    }

    @Test
    void healthIs503WhileNoWorkerIsReadyAndSaysWhy() throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.port() + "/health")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(503, r.statusCode());
        JsonObject h = JsonParser.parseString(r.body()).getAsJsonObject();
        assertEquals("loading", h.get("status").getAsString());
        assertEquals("connected", h.get("broker").getAsString());
        assertTrue(h.getAsJsonObject("models").has(MODEL));
        assertEquals(dev.axfleet.config.BuildInfo.current().version(), h.get("version").getAsString(), "which axfleet answers");
        assertTrue(h.get("commit").getAsString().matches("[0-9a-f]{12}|unknown"), h.get("commit").getAsString());
    }

    @Test
    void metricsArePrometheusText() throws Exception {
        post("{}");
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.port() + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/plain"));
        assertTrue(r.body().contains("# TYPE axfleet_gateway_requests_total counter"));
        assertTrue(r.body().contains("axfleet_gateway_requests_total{method=\"POST\",route=\"/v1/chat/completions\",status=\"400\"}"));
        assertTrue(r.body().contains("axfleet_broker_connected 1"));
    }
}
