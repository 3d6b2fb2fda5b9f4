package dev.axfleet.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt5.Mqtt5AsyncClient;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import dev.axfleet.broker.chat.ChatOutput;
import dev.axfleet.broker.chat.FinishReason;
import dev.axfleet.broker.Job;
import dev.axfleet.broker.JobResult;
import dev.axfleet.broker.MqttClients;
import dev.axfleet.broker.Topics;
import dev.axfleet.broker.Usage;
import dev.axfleet.broker.WireCodec;
import dev.axfleet.broker.testing.TestBroker;
import dev.axfleet.broker.testing.TestMqttClient;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The broker goes away under the gateway: a caller waiting meanwhile is answered 503 + Retry-After instead
 * of hanging, its job is cancelled once the broker is back, and the gateway takes new requests again
 * (it subscribes again on its own). The "worker" here is a plain MQTT client answering as a worker does.
 */
class BrokerLossTest {
    static final String MODEL = "qwen3-1.7b";
    static final String BODY = "{\"model\":\"" + MODEL + "\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @TempDir
    Path dir;
    TestBroker broker;
    Gateway gateway;

    @AfterEach
    void stop() {
        if (gateway != null) {
            gateway.close();
        }
        // Null when the test was skipped before a broker started (Mosquitto not installed).
        if (broker != null) {
            broker.close();
        }
    }

    private void start() {
        broker = TestBroker.embedded(dir);
        gateway = TestGateways.start(broker, Map.of(
                "gateway.models", MODEL,
                "gateway.request_timeout", "60s",
                "gateway.broker_grace", "300ms"));
    }

    private CompletableFuture<HttpResponse<String>> ask() {
        return http.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.port() + "/v1/chat/completions"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(BODY)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private String health() throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.port() + "/health")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }

    @Test
    void aCallerWaitingWhileTheBrokerIsAwayGets503AndItsJobIsCancelledWhenItIsBack() throws Exception {
        start();
        // A client with a persistent session, so it hears the cancel the gateway sends right at reconnection.
        Mqtt5AsyncClient watcher = MqttClients.builder(broker.address(), "watcher").buildAsync();
        BlockingQueue<Mqtt5Publish> seen = new LinkedBlockingQueue<>();
        watcher.publishes(MqttGlobalPublishFilter.ALL, seen::add);
        watcher.connectWith().cleanStart(false).sessionExpiryInterval(300).send().get(5, TimeUnit.SECONDS);
        watcher.subscribeWith().addSubscription().topicFilter(Topics.jobs(MODEL)).qos(MqttQos.AT_LEAST_ONCE).applySubscription()
                .addSubscription().topicFilter(Topics.cancel(MODEL)).qos(MqttQos.AT_LEAST_ONCE).applySubscription()
                .send().get(5, TimeUnit.SECONDS);

        CompletableFuture<HttpResponse<String>> waiting = ask();
        Mqtt5Publish published = seen.poll(10, TimeUnit.SECONDS);
        assertNotNull(published, "the job reached the bus");
        String id = TestMqttClient.job(published).id();

        broker.restart();
        HttpResponse<String> r = waiting.get(20, TimeUnit.SECONDS);
        assertEquals(503, r.statusCode(), r.body());
        assertEquals("5", r.headers().firstValue("Retry-After").orElse(""));
        assertTrue(r.body().contains("broker"), r.body());

        String cancelled = null;
        for (int i = 0; i < 100 && cancelled == null; i++) {
            Mqtt5Publish p = seen.poll(200, TimeUnit.MILLISECONDS);
            if (p != null && p.getTopic().toString().equals(Topics.cancel(MODEL))) {
                cancelled = WireCodec.decodeCancel(p.getPayloadAsBytes()).orElse(null);
            }
        }
        assertEquals(id, cancelled, "the orphaned job is cancelled, so the caller's retry does not run next to it");
        watcher.disconnect();
    }

    @Test
    void afterTheBrokerRestartsTheGatewaySubscribesAgainAndAnswers() throws Exception {
        start();
        broker.restart();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!health().contains("\"broker\":\"connected\"") && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        try (TestMqttClient worker = TestMqttClient.connect(broker.address(), "fake-worker")) {
            BlockingQueue<Mqtt5Publish> jobs = worker.subscribe(Topics.jobs(MODEL));
            CompletableFuture<HttpResponse<String>> answer = ask();
            Mqtt5Publish p = jobs.poll(10, TimeUnit.SECONDS);
            assertNotNull(p, "the job reached the bus after the restart");
            Job job = TestMqttClient.job(p);
            JobResult result = JobResult.done(job, new ChatOutput("hello again", FinishReason.STOP, new Usage(3, 2, false), 5L, 0, null), 0L, 5, "fake-worker");
            worker.publish(job.replyTo(), new String(WireCodec.encodeResult(result), java.nio.charset.StandardCharsets.UTF_8));
            HttpResponse<String> r = answer.get(20, TimeUnit.SECONDS);
            assertEquals(200, r.statusCode(), r.body());
            assertTrue(r.body().contains("hello again"), r.body());
        }
    }

    static Stream<Function<Path, TestBroker>> brokers() {
        return Stream.of(TestBroker::embedded, TestBroker::mosquitto);
    }

    /**
     * No worker subscribes to the model's jobs (none ever connected, or Mosquitto has just restarted and the
     * workers have not subscribed again): the broker drops the job with PUBACK reason 16, so the gateway publishes
     * it again for gateway.broker_grace, then answers 503 instead of letting the caller wait for the timeout.
     */
    @ParameterizedTest
    @MethodSource("brokers")
    void aJobNoWorkerSubscribesToIsPublishedAgainUntilOneDoesOrTheCallerGets503(Function<Path, TestBroker> kind) throws Exception {
        broker = kind.apply(dir);
        gateway = TestGateways.start(broker, Map.of("gateway.models", MODEL, "gateway.request_timeout", "60s", "gateway.broker_grace", "3s"));
        HttpResponse<String> refused = ask().get(20, TimeUnit.SECONDS);
        assertEquals(503, refused.statusCode(), refused.body());
        assertEquals("5", refused.headers().firstValue("Retry-After").orElse(""));
        assertTrue(refused.body().contains("no worker"), refused.body());

        CompletableFuture<HttpResponse<String>> answer = ask();
        Thread.sleep(1000);
        try (TestMqttClient worker = TestMqttClient.connect(broker.address(), "late-worker")) {
            BlockingQueue<Mqtt5Publish> jobs = worker.subscribe(Topics.jobsShared(MODEL));
            Mqtt5Publish p = jobs.poll(10, TimeUnit.SECONDS);
            assertNotNull(p, "the job published again reached the worker that subscribed late, on " + broker);
            Job job = TestMqttClient.job(p);
            JobResult result = JobResult.done(job, new ChatOutput("late but here", FinishReason.STOP, new Usage(3, 2, false), 5L, 0, null), 0L, 5, "late-worker");
            worker.publish(job.replyTo(), new String(WireCodec.encodeResult(result), java.nio.charset.StandardCharsets.UTF_8));
            HttpResponse<String> r = answer.get(20, TimeUnit.SECONDS);
            assertEquals(200, r.statusCode(), r.body());
            assertTrue(r.body().contains("late but here"), r.body());
        }
    }
}
