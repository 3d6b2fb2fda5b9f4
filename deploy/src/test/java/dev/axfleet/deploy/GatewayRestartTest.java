package dev.axfleet.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import dev.axfleet.broker.JobResult;
import dev.axfleet.broker.Outcome;
import dev.axfleet.broker.Reply;
import dev.axfleet.broker.Topics;
import dev.axfleet.broker.WireCodec;
import dev.axfleet.broker.testing.TestBroker;
import dev.axfleet.broker.testing.TestMqttClient;
import dev.axfleet.config.Settings;
import dev.axfleet.gateway.Gateway;
import dev.axfleet.gateway.GatewayConfig;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A gateway restarted while its jobs and MQTT callers' jobs wait in the same queue: every MQTT caller gets its
 * reply once, the stopping gateway finishes the HTTP requests it holds before it goes (Jetty's graceful stop),
 * and the restarted gateway (same id, so the same persistent session) answers new requests.
 */
class GatewayRestartTest {
    static final String MODEL = "qwen3-0.6b";
    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @Test
    void mqttCallersGetEveryReplyOnceAcrossAGatewayRestart(@TempDir Path dir) throws Exception {
        try (TestBroker broker = TestBroker.embedded(dir.resolve("broker"));
             Fleet fleet = fleet(broker, dir);
             TestMqttClient device = TestMqttClient.connect(broker.address(), "device-restart")) {
            TestFleets.awaitHealthy("http://127.0.0.1:" + fleet.gatewayPort());
            Map<String, String> settings = gatewaySettings(broker, "30s");
            Gateway gateway = Gateway.start(GatewayConfig.from(Settings.of(settings)));
            List<CompletableFuture<HttpResponse<String>>> held = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                held.add(ask(gateway.port(), "HTTP caller " + i));
            }
            BlockingQueue<Mqtt5Publish> gatewayReplies = device.subscribe(Topics.replies("restarting"));
            Thread.sleep(1000);
            BlockingQueue<Mqtt5Publish> inbox = device.subscribe(Topics.replies("device-restart"));
            for (int i = 0; i < 4; i++) {
                device.publish(Topics.jobs(MODEL), "{\"id\":\"m" + i + "\",\"reply_to\":\"" + Topics.reply("device-restart", "m" + i)
                        + "\",\"params\":{\"prompt\":\"Device job " + i + "\"}}");
            }
            Thread.sleep(300);
            CompletableFuture<HttpResponse<String>> tooLate = new CompletableFuture<>();
            Thread stopper = new Thread(gateway::close);
            stopper.start();
            Thread.sleep(200);
            tooLate.complete(ask(gateway.port(), "while stopping").get(30, TimeUnit.SECONDS));
            stopper.join(60_000);
            assertEquals(503, tooLate.get().statusCode(), "a stopping gateway refuses new work: " + tooLate.get().body());
            assertTrue(tooLate.get().headers().firstValue("Retry-After").isPresent());
            Gateway restarted = Gateway.start(GatewayConfig.from(Settings.of(settings)));
            try {
                for (CompletableFuture<HttpResponse<String>> f : held) {
                    HttpResponse<String> r = f.get(60, TimeUnit.SECONDS);
                    assertEquals(200, r.statusCode(), "a stopping gateway finishes the requests it has: " + r.body());
                }
                Map<String, Integer> results = new HashMap<>();
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
                while (results.size() < 4 && System.nanoTime() < deadline) {
                    Mqtt5Publish p = inbox.poll(500, TimeUnit.MILLISECONDS);
                    if (p != null && WireCodec.decodeReply(p.getPayloadAsBytes()) instanceof JobResult r) {
                        assertEquals(Outcome.DONE, r.outcome(), r.toString());
                        results.merge(r.id(), 1, Integer::sum);
                    }
                }
                assertEquals(Map.of("m0", 1, "m1", 1, "m2", 1, "m3", 1), results, "every device job answered once");
                Map<Outcome, Integer> gatewayJobs = new HashMap<>();
                for (Mqtt5Publish p = gatewayReplies.poll(1, TimeUnit.SECONDS); p != null; p = gatewayReplies.poll(1, TimeUnit.SECONDS)) {
                    if (WireCodec.decodeReply(p.getPayloadAsBytes()) instanceof JobResult r) {
                        gatewayJobs.merge(r.outcome(), 1, Integer::sum);
                    }
                }
                assertEquals(3, gatewayJobs.values().stream().mapToInt(Integer::intValue).sum(), gatewayJobs.toString());
                assertEquals(Map.of(Outcome.DONE, 3), gatewayJobs, "the stopped gateway's jobs ran once each");
                HttpResponse<String> fresh = ask(restarted.port(), "after the restart").get(120, TimeUnit.SECONDS);
                assertEquals(200, fresh.statusCode(), fresh.body());
                assertTrue(fresh.body().contains("chat.completion"), fresh.body());
                for (Mqtt5Publish late = inbox.poll(1, TimeUnit.SECONDS); late != null; late = inbox.poll(1, TimeUnit.SECONDS)) {
                    Reply r = WireCodec.decodeReply(late.getPayloadAsBytes());
                    assertTrue(!(r instanceof JobResult), "a device job answered twice: " + r);
                }
            } finally {
                restarted.close();
            }
        }
    }

    /** Past gateway.drain, callers still waiting get 503 + Retry-After and their jobs are cancelled, not run for nobody. */
    @Test
    void aStopPastItsDrainTimeCancelsTheJobsOfCallersStillWaiting(@TempDir Path dir) throws Exception {
        try (TestBroker broker = TestBroker.embedded(dir.resolve("broker"));
             Fleet fleet = fleet(broker, dir);
             TestMqttClient observer = TestMqttClient.connect(broker.address(), "observer")) {
            TestFleets.awaitHealthy("http://127.0.0.1:" + fleet.gatewayPort());
            BlockingQueue<Mqtt5Publish> gatewayReplies = observer.subscribe(Topics.replies("restarting"));
            Gateway gateway = Gateway.start(GatewayConfig.from(Settings.of(gatewaySettings(broker, "500ms"))));
            List<CompletableFuture<HttpResponse<String>>> callers = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                callers.add(ask(gateway.port(), "caller " + i));
            }
            Thread.sleep(1000);
            gateway.close();
            int refused = 0;
            for (CompletableFuture<HttpResponse<String>> f : callers) {
                HttpResponse<String> r = f.get(30, TimeUnit.SECONDS);
                if (r.statusCode() == 503) {
                    assertTrue(r.body().contains("the gateway stopped"), r.body());
                    assertTrue(r.headers().firstValue("Retry-After").isPresent());
                    refused++;
                } else {
                    assertEquals(200, r.statusCode(), r.body());
                }
            }
            assertTrue(refused >= 2, "callers still waiting when the drain time ran out: " + refused);
            Map<Outcome, Integer> outcomes = new HashMap<>();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (outcomes.values().stream().mapToInt(Integer::intValue).sum() < 4 && System.nanoTime() < deadline) {
                Mqtt5Publish p = gatewayReplies.poll(500, TimeUnit.MILLISECONDS);
                if (p != null && WireCodec.decodeReply(p.getPayloadAsBytes()) instanceof JobResult r) {
                    outcomes.merge(r.outcome(), 1, Integer::sum);
                }
            }
            assertEquals(4, outcomes.values().stream().mapToInt(Integer::intValue).sum(), outcomes.toString());
            assertEquals(refused, outcomes.getOrDefault(Outcome.CANCELLED, 0), "each refused caller's job cancelled: " + outcomes);
        }
    }

    private static Fleet fleet(TestBroker broker, Path dir) {
        return Fleet.start(FleetConfig.from(Settings.of(Map.of(
                "fleet.home", dir.resolve("fleet").toString(),
                "fleet.emulate", "true",
                "fleet.monitor", "false",
                "fleet.models", MODEL + "=Qwen3-0.6B",
                "emulator.time_scale", "0.3",
                "broker.url", "mqtt://127.0.0.1:" + broker.address().port(),
                "gateway.port", "0"))));
    }

    /** A gateway with a fixed id, so that a restarted one takes over the same persistent session. */
    private static Map<String, String> gatewaySettings(TestBroker broker, String drain) {
        return Map.of(
                "broker.url", "mqtt://127.0.0.1:" + broker.address().port(),
                "gateway.port", "0",
                "gateway.id", "restarting",
                "gateway.models", MODEL,
                "gateway.drain", drain);
    }

    private static CompletableFuture<HttpResponse<String>> ask(int port, String text) {
        return HTTP.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/chat/completions"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"" + MODEL + "\",\"messages\":[{\"role\":\"user\",\"content\":\""
                        + text + "\"}]}")).build(), HttpResponse.BodyHandlers.ofString());
    }
}
