package dev.axfleet.monitor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import dev.axfleet.broker.Topics;
import dev.axfleet.broker.WorkerState.Phase;
import dev.axfleet.broker.testing.TestMqttClient;
import dev.axfleet.broker.testing.TestTools;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Home Assistant discovery from a real monitor watching the emulated card, with a real worker on it: the retained
 * config messages read back from the broker as Home Assistant reads them ({@code homeassistant/#}), each checked
 * against Home Assistant's sensor discovery schema ({@link HomeAssistantSchema}), and their templates rendered with
 * Jinja2 against the retained states they point at: the card's temperature, free CMM and state, the worker's phase;
 * available while the monitor runs, unavailable once it has gone; a worker taken away takes its sensor along.
 */
class HomeAssistantDiscoveryTest {
    static final String PREFIX = "homeassistant/";
    @TempDir
    Path dir;
    CardFixture f;

    @AfterEach
    void tearDown() {
        if (f != null) {
            f.close();
        }
    }

    @Test
    void theCardAndItsWorkerAppearInHomeAssistantWithNoConfiguration() throws Exception {
        TestTools.require("python3 with jinja2", "apt-get install python3-jinja2", jinja2());
        f = new CardFixture(dir);
        f.startWorker(Map.of());
        f.startMonitor(Map.of());
        f.awaitWorker("ready", w -> w.phase() == Phase.READY);
        f.awaitCard("read", h -> h.readings().temperatureC() != null);

        try (TestMqttClient ha = TestMqttClient.connect(f.broker.address(), "home-assistant")) {
            Map<String, JsonObject> configs = configs(ha.subscribe("homeassistant/#"), 4);
            String node = "sensor/axfleet_test-pi_card0/";
            assertEquals(List.of(node + "cmm_free/config", node + "state/config", node + "temperature/config",
                    node + "worker_qwen3-1_7b_w1_phase/config"), new ArrayList<>(configs.keySet()));
            configs.forEach((topic, payload) -> assertEquals(List.of(), HomeAssistantSchema.problems(topic, payload), topic + ": " + payload));
            configs.values().forEach(c -> assertEquals("axfleet_test-pi_card0", c.getAsJsonObject("device").getAsJsonArray("identifiers")
                    .get(0).getAsString(), "one device: the card"));

            // What Home Assistant would show: each value template over the retained message its state topic holds.
            String health = retained(ha, Topics.card(CardFixture.CARD));
            String worker = retained(ha, Topics.workerState(CardFixture.MODEL, "w1"));
            JsonObject h = JsonParser.parseString(health).getAsJsonObject();
            List<String> shown = render(List.of(
                    template(configs.get(node + "temperature/config"), "value_template", health),
                    template(configs.get(node + "cmm_free/config"), "value_template", health),
                    template(configs.get(node + "state/config"), "value_template", health),
                    template(configs.get(node + "worker_qwen3-1_7b_w1_phase/config"), "value_template", worker),
                    availability(configs.get(node + "temperature/config"), health)));
            assertEquals(h.get("temperature_c").getAsDouble(), Double.parseDouble(shown.get(0)), 1e-9, "temperature in °C");
            assertEquals(h.get("cmm_total_mib").getAsLong() - h.get("cmm_used_mib").getAsLong(), Long.parseLong(shown.get(1)), "CMM free in MiB");
            assertEquals("ok", shown.get(2));
            assertTrue(options(configs.get(node + "state/config")).contains(shown.get(2)));
            assertEquals("ready", shown.get(3));
            assertTrue(options(configs.get(node + "worker_qwen3-1_7b_w1_phase/config")).contains(shown.get(3)));
            assertEquals("online", shown.get(4));

            // The monitor goes: its goodbye (the same message as its last will) makes the card unavailable.
            f.monitor.close();
            String gone = awaitRetained(ha, Topics.card(CardFixture.CARD), p -> !p.contains("\"at\""));
            List<String> after = render(List.of(availability(configs.get(node + "temperature/config"), gone),
                    template(configs.get(node + "temperature/config"), "value_template", gone)));
            assertEquals(List.of("offline", "None"), after, "unavailable, and no reading (Home Assistant's PAYLOAD_NONE)");
            f.monitor = null;
        }
    }

    @Test
    void aWorkerTakenAwayTakesItsSensorAlong() throws Exception {
        f = new CardFixture(dir);
        f.startWorker(Map.of());
        f.startMonitor(Map.of());
        f.awaitWorker("ready", w -> w.phase() == Phase.READY);
        try (TestMqttClient ha = TestMqttClient.connect(f.broker.address(), "home-assistant")) {
            String sensor = PREFIX + "sensor/axfleet_test-pi_card0/worker_qwen3-1_7b_w1_phase/config";
            BlockingQueue<Mqtt5Publish> q = ha.subscribe(sensor);
            Mqtt5Publish announced = q.poll(20, TimeUnit.SECONDS);
            assertTrue(announced != null && announced.getPayloadAsBytes().length > 0, "the worker's sensor is announced");
            f.worker.close();
            f.worker = null;
            // As an operator removing a model does: the worker's retained state cleared.
            f.device.publishRetained(Topics.workerState(CardFixture.MODEL, "w1"), new byte[0]);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (System.nanoTime() < deadline) {
                Mqtt5Publish m = q.poll(200, TimeUnit.MILLISECONDS);
                if (m != null && m.getPayloadAsBytes().length == 0) {
                    return;
                }
            }
            fail("the worker's sensor config was not cleared");
        }
    }

    @Test
    void theSchemaCheckCatchesWhatHomeAssistantWouldRefuseOrDrop() {
        JsonObject bad = JsonParser.parseString("{\"name\":\"t\",\"uniq_id\":\"x\",\"stat_t\":\"a/#/b\",\"dev_cla\":\"temperature\","
                + "\"unit_of_meas\":\"MiB\",\"options\":[\"a\"],\"avty_t\":\"a\",\"avty\":[{\"t\":\"a\"}],\"device\":{\"name\":\"d\"},"
                + "\"origin\":{},\"value_templat\":\"{{ value }}\"}").getAsJsonObject();
        List<String> p = HomeAssistantSchema.problems("sensor/node.1/object/config", bad);
        for (String expected : List.of("topic sensor/node.1/object/config", "key value_templat", "state_topic is required",
                "unit \"MiB\" is not one device class temperature", "options needs device_class enum", "options is not allowed",
                "availability_topic and availability are exclusive", "identifiers, connections", "origin needs a name")) {
            assertTrue(p.stream().anyMatch(s -> s.contains(expected)), expected + " in " + p);
        }
    }

    /** Collects retained discovery configs until {@code count} have arrived (at most 20 s). */
    static Map<String, JsonObject> configs(BlockingQueue<Mqtt5Publish> q, int count) throws InterruptedException {
        Map<String, JsonObject> out = new TreeMap<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (out.size() < count && System.nanoTime() < deadline) {
            Mqtt5Publish m = q.poll(200, TimeUnit.MILLISECONDS);
            if (m != null && m.getPayloadAsBytes().length > 0) {
                assertTrue(m.isRetain(), "retained, so Home Assistant finds it whenever it starts");
                out.put(m.getTopic().toString().substring(PREFIX.length()), JsonParser.parseString(
                        new String(m.getPayloadAsBytes(), StandardCharsets.UTF_8)).getAsJsonObject());
            }
        }
        return out;
    }

    static String retained(TestMqttClient c, String topic) throws InterruptedException {
        return awaitRetained(c, topic, p -> !p.isEmpty());
    }

    static String awaitRetained(TestMqttClient c, String topic, java.util.function.Predicate<String> p) throws InterruptedException {
        BlockingQueue<Mqtt5Publish> q = c.subscribe(topic);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        String last = null;
        while (System.nanoTime() < deadline) {
            Mqtt5Publish m = q.poll(200, TimeUnit.MILLISECONDS);
            if (m != null) {
                last = new String(m.getPayloadAsBytes(), StandardCharsets.UTF_8);
                if (p.test(last)) {
                    return last;
                }
            }
        }
        return fail("nothing fitting on " + topic + "; last " + last);
    }

    static List<String> options(JsonObject config) {
        List<String> out = new ArrayList<>();
        config.getAsJsonArray("options").forEach(e -> out.add(e.getAsString()));
        return out;
    }

    static JsonObject template(JsonObject config, String key, String payload) {
        JsonObject c = new JsonObject();
        c.addProperty("template", config.get(key).getAsString());
        c.addProperty("payload", payload);
        return c;
    }

    /** The first availability entry (the monitor's last will) over a card health payload. */
    static JsonObject availability(JsonObject config, String payload) {
        JsonObject entry = config.getAsJsonArray("availability").get(0).getAsJsonObject();
        return template(entry, "value_template", payload);
    }

    static List<String> render(List<JsonObject> cases) throws IOException, InterruptedException {
        JsonArray in = new JsonArray();
        cases.forEach(in::add);
        Process p = new ProcessBuilder("python3", Path.of("src/test/python/ha_templates.py").toAbsolutePath().toString())
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        p.getOutputStream().write(in.toString().getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        List<String> rendered = new ArrayList<>();
        for (JsonElement e : JsonParser.parseString(out).getAsJsonArray()) {
            rendered.add(e.getAsString());
        }
        return rendered;
    }

    static boolean jinja2() {
        try {
            Process p = new ProcessBuilder("python3", "-c", "import jinja2").redirectErrorStream(true).start();
            return p.waitFor(20, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }
}
