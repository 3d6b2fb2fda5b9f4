package dev.axfleet.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import dev.axfleet.broker.Outcome;
import dev.axfleet.broker.Topics;
import dev.axfleet.broker.testing.PrometheusText;
import dev.axfleet.broker.testing.TestMqttClient;
import dev.axfleet.config.Settings;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.BlockingQueue;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Grafana dashboard shipped in deploy/grafana asks only for metrics a running fleet serves: a whole fleet (worker
 * on the emulated runtime, the monitor on the emulated card) answers an HTTP chat and an MQTT device's job, and every
 * metric any panel queries is then in {@code /metrics}, as Prometheus' parser reads it.
 */
class MetricsDashboardTest {
    static final String MODEL = "qwen3-1.7b";
    static final Path DASHBOARD = Path.of("grafana/axfleet-dashboard.json").toAbsolutePath();
    static final Pattern METRIC = Pattern.compile("\\b((?:axfleet|jvm|process)_[a-z0-9_]+)\\b");
    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    static Fleet fleet;
    static String base;

    @BeforeAll
    static void start() throws Exception {
        Path home = Files.createTempDirectory("axfleet-metrics");
        fleet = Fleet.start(FleetConfig.from(Settings.of(Map.of(
                "fleet.home", home.toString(),
                "fleet.emulate", "true",
                "fleet.image_model", "",
                "fleet.models", MODEL + "=Qwen3-1.7B",
                "emulator.time_scale", "0",
                "broker.embedded_port", "0",
                "gateway.port", "0"))));
        base = "http://127.0.0.1:" + fleet.gatewayPort();
        TestFleets.awaitHealthy(base);
    }

    @AfterAll
    static void stop() {
        if (fleet != null) {
            fleet.close();
        }
    }

    /** The metric names every panel's queries use. */
    static Set<String> dashboardMetrics() throws Exception {
        JsonObject dashboard = JsonParser.parseString(Files.readString(DASHBOARD)).getAsJsonObject();
        Set<String> names = new TreeSet<>();
        for (JsonElement p : dashboard.getAsJsonArray("panels")) {
            for (JsonElement t : p.getAsJsonObject().getAsJsonArray("targets")) {
                Matcher m = METRIC.matcher(t.getAsJsonObject().get("expr").getAsString());
                while (m.find()) {
                    names.add(m.group(1));
                }
            }
        }
        return names;
    }

    static String get(String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30)).build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }

    @Test
    void everyMetricTheDashboardUsesIsServed() throws Exception {
        Set<String> wanted = dashboardMetrics();
        assertTrue(wanted.size() >= 20, wanted.toString());
        HttpResponse<String> chat = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/v1/chat/completions"))
                .header("Content-Type", "application/json").timeout(Duration.ofSeconds(60))
                .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"" + MODEL + "\",\"max_tokens\":4,"
                        + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, chat.statusCode(), chat.body());
        try (TestMqttClient device = TestMqttClient.connect(fleet.brokerAddress(), "metrics-device")) {
            String reply = Topics.reply("metrics-device", "dash-1");
            BlockingQueue<Mqtt5Publish> answer = device.subscribe(reply);
            device.publish(Topics.jobs(MODEL), "{\"id\":\"dash-1\",\"reply_to\":\"" + reply + "\",\"params\":{\"prompt\":\"hi\",\"max_tokens\":4}}");
            assertEquals(Outcome.DONE, TestMqttClient.await(answer, Duration.ofSeconds(60)).result().outcome());
        }
        List<String> missing = new ArrayList<>(wanted);
        PrometheusText m = null;
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        // The monitor reports the card every few seconds and the bus counts arrive as they are published.
        while (!missing.isEmpty() && System.nanoTime() < deadline) {
            m = PrometheusText.parse(get("/metrics"));
            PrometheusText served = m;
            missing.removeIf(name -> served.familyOf(name) != null);
            if (!missing.isEmpty()) {
                Thread.sleep(500);
            }
        }
        assertEquals(List.of(), missing, "the dashboard asks for metrics /metrics does not serve");
        assertTrue(m.sum("axfleet_jobs_total", Map.of("model", MODEL, "outcome", "done")) >= 2, "the device's job counts too");
        assertFalse(m.samples("axfleet_card_temperature_celsius", Map.of("emulated", "true")).isEmpty());
    }
}
