package dev.axfleet.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt5.Mqtt5AsyncClient;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import dev.axfleet.broker.ErrorCode;
import dev.axfleet.broker.Job;
import dev.axfleet.broker.JobError;
import dev.axfleet.broker.JobResult;
import dev.axfleet.broker.MqttClients;
import dev.axfleet.broker.Outcome;
import dev.axfleet.broker.Priority;
import dev.axfleet.broker.Topics;
import dev.axfleet.broker.WireCodec;
import dev.axfleet.broker.testing.TestBroker;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A request's priority and deadline, over real HTTP to a gateway on a real broker: the header or body field puts its job
 * on its priority's topic, the caller's timeout becomes its {@code expires_at}, a value that names nothing is a 400 in
 * the API's own shape, and a job answered "would not finish in time" is a 503 the SDKs do not retry. The "worker" here
 * is a plain MQTT client that answers as a worker would.
 */
class UrgencyTest {
    static final String MODEL = "qwen3-1.7b";
    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @TempDir
    static Path dir;
    static TestBroker broker;
    static Gateway gateway;
    static Mqtt5AsyncClient worker;
    static final BlockingQueue<Mqtt5Publish> jobs = new LinkedBlockingQueue<>();
    /** What the "worker" answers: a finished job, or would_not_finish. */
    static volatile boolean refuse;

    @BeforeAll
    static void start() throws Exception {
        broker = TestBroker.embedded(dir);
        gateway = TestGateways.start(broker, Map.of("gateway.models", MODEL, "gateway.request_timeout", "300s"));
        worker = MqttClients.builder(broker.address(), "fake-worker").buildAsync();
        worker.publishes(MqttGlobalPublishFilter.ALL, UrgencyTest::answer);
        worker.connect().get(10, TimeUnit.SECONDS);
        worker.subscribeWith().topicFilter(Topics.jobs(MODEL)).qos(MqttQos.AT_LEAST_ONCE)
                .send().get(10, TimeUnit.SECONDS);
        for (Priority p : Priority.values()) {
            worker.subscribeWith().topicFilter(Topics.jobs(MODEL, p)).qos(MqttQos.AT_LEAST_ONCE).send().get(10, TimeUnit.SECONDS);
        }
    }

    @AfterAll
    static void stop() {
        worker.disconnect();
        gateway.close();
        broker.close();
    }

    @BeforeEach
    void clear() {
        jobs.clear();
        refuse = false;
    }

    private static void answer(Mqtt5Publish p) {
        jobs.add(p);
        try {
            Job job = WireCodec.decodeJob(p.getTopic().toString(), p.getPayloadAsBytes(), p.getResponseTopic().map(Object::toString).orElse(null),
                    p.getCorrelationData().map(b -> {
                        byte[] out = new byte[b.remaining()];
                        b.duplicate().get(out);
                        return out;
                    }).orElse(null));
            JobResult r = refuse
                    ? JobResult.failed(job, Outcome.ERROR, JobError.of(ErrorCode.WOULD_NOT_FINISH, "it would start in about 40000 ms"), null, 0, "fake")
                    : JobResult.done(job, new dev.axfleet.broker.chat.ChatOutput("hello", dev.axfleet.broker.chat.FinishReason.STOP,
                    new dev.axfleet.broker.Usage(1, 1, false), null, 0, null, java.util.List.of()), null, 5, "fake");
            worker.publishWith().topic(job.replyTo()).correlationData(job.correlation()).qos(MqttQos.EXACTLY_ONCE)
                    .payload(WireCodec.encodeResult(r)).send();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static HttpResponse<String> post(String path, String body, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.port() + path))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
        if (headers.length > 0) {
            b.headers(headers);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static final String CHAT = "{\"model\":\"qwen3-1.7b\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]";

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "/v1/chat/completions | " + CHAT + "}                                  |                            | normal",
            "/v1/chat/completions | " + CHAT + "}                                  | X-Axfleet-Priority: high   | high",
            "/v1/chat/completions | " + CHAT + ",\"priority\":\"low\"}            | X-Axfleet-Priority: high   | low",
            "/v1/chat/completions | " + CHAT + ",\"service_tier\":\"priority\"}   |                            | high",
            "/v1/chat/completions | " + CHAT + ",\"service_tier\":\"flex\"}       |                            | low",
            "/v1/completions      | {\"model\":\"qwen3-1.7b\",\"prompt\":\"hi\",\"priority\":\"HIGH\"} |     | high",
            "/api/chat            | " + CHAT + ",\"stream\":false,\"priority\":\"low\"}  |                   | low",
            "/api/generate        | {\"model\":\"qwen3-1.7b\",\"prompt\":\"hi\",\"stream\":false} | X-Axfleet-Priority: Low | low",
    })
    void theHeaderOrTheBodyPutsTheJobOnItsPrioritysTopic(String path, String body, String header, String priority) throws Exception {
        HttpResponse<String> r = header == null ? post(path, body) : post(path, body, header.split(":\\s*", 2));
        assertEquals(200, r.statusCode(), r.body());
        Mqtt5Publish job = jobs.poll(5, TimeUnit.SECONDS);
        assertNotNull(job);
        assertEquals(Topics.jobs(MODEL, Priority.parse(priority).orElseThrow()), job.getTopic().toString());
    }

    @Test
    void aPriorityThatNamesNoneIsA400InTheApisOwnShape() throws Exception {
        HttpResponse<String> r = post("/v1/chat/completions", CHAT + "}", "X-Axfleet-Priority", "urgent");
        assertEquals(400, r.statusCode());
        JsonObject e = JsonParser.parseString(r.body()).getAsJsonObject().getAsJsonObject("error");
        assertEquals("X-Axfleet-Priority", e.get("param").getAsString());
        assertTrue(e.get("message").getAsString().contains("high, normal, low"), e.toString());
        HttpResponse<String> o = post("/api/chat", CHAT + ",\"priority\":3}");
        assertEquals(400, o.statusCode());
        assertTrue(JsonParser.parseString(o.body()).getAsJsonObject().get("error").getAsString().contains("priority"), o.body());
        HttpResponse<String> t = post("/v1/chat/completions", CHAT + "}", "X-Request-Timeout", "soon");
        assertEquals(400, t.statusCode());
        assertEquals(null, jobs.poll(300, TimeUnit.MILLISECONDS), "nothing was queued");
    }

    @Test
    void theCallersTimeoutBecomesTheJobsDeadline() throws Exception {
        assertExpiresAfter(30_000, "X-Request-Timeout", "30");
        // The OpenAI SDKs send one try's timeout, and try again after it by themselves: not the caller's deadline.
        assertExpiresAfter(300_000, "X-Stainless-Timeout", "600");
        assertExpiresAfter(300_000, "X-Stainless-Timeout", "12");
        assertExpiresAfter(2_500, "X-Request-Timeout", "2.5");
    }

    private static void assertExpiresAfter(long ms, String header, String value) throws Exception {
        long before = System.currentTimeMillis();
        assertEquals(200, post("/v1/chat/completions", CHAT + "}", header, value).statusCode());
        long after = System.currentTimeMillis();
        Mqtt5Publish p = jobs.poll(5, TimeUnit.SECONDS);
        assertNotNull(p);
        long expires = WireCodec.decodeJob(p.getTopic().toString(), p.getPayloadAsBytes(), null, null).expiresAt().toEpochMilli();
        assertTrue(expires >= before + ms && expires <= after + ms, header + ": " + value + " gives expires_at " + (expires - before) + " ms on");
    }

    @Test
    void aJobThatWouldNotFinishInTimeIsA503TheSdksDoNotRetry() throws Exception {
        refuse = true;
        HttpResponse<String> r = post("/v1/chat/completions", CHAT + "}", "X-Request-Timeout", "30");
        assertEquals(503, r.statusCode(), r.body());
        assertEquals("false", r.headers().firstValue("X-Should-Retry").orElse(""));
        JsonObject e = JsonParser.parseString(r.body()).getAsJsonObject().getAsJsonObject("error");
        assertEquals("would_not_finish", e.get("code").getAsString());
        assertTrue(e.get("message").getAsString().startsWith("would not finish in time"), e.toString());
        HttpResponse<String> o = post("/api/chat", CHAT + ",\"stream\":false}");
        assertEquals(503, o.statusCode());
        assertTrue(JsonParser.parseString(o.body()).getAsJsonObject().get("error").getAsString().contains("would not finish in time"), o.body());
    }
}
