package dev.axfleet.deploy;

import static dev.axfleet.deploy.TestFleets.json;
import static dev.axfleet.deploy.TestFleets.node;
import static dev.axfleet.deploy.TestFleets.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import dev.axfleet.broker.testing.TestTools;
import org.junit.jupiter.api.Test;

/**
 * The clients installations and their devices use, run as they are, against the whole fleet: the official
 * ollama JavaScript client, MQTT.js as an MQTT 3.1.1 device at QoS 0 and as an MQTT 5 client, and the
 * examples in examples/ (paho for Python, the mosquitto clients for shell). Needs node with
 * deploy/src/test/node installed (npm ci), python3-paho-mqtt and mosquitto-clients ({@link TestTools}).
 */
abstract class ClientsSuite extends OllamaSuite {
    static final Path EXAMPLES = Path.of("..", "examples").toAbsolutePath().normalize();

    @Test
    void theOfficialOllamaJavaScriptClientGetsAnswersStreamedAndNot() throws Exception {
        JsonObject o = json(run(node(), "ollama-client.mjs", base, MODEL));
        JsonObject chat = o.getAsJsonObject("chat");
        assertTrue(chat.get("content").getAsString().startsWith("(emulated"), o.toString());
        assertTrue(chat.get("done").getAsBoolean());
        assertTrue(chat.get("eval_count").getAsInt() <= 100);
        assertEquals(chat.get("content").getAsString(), o.getAsJsonObject("streamed").get("content").getAsString());
        assertTrue(o.getAsJsonObject("streamed").get("done").getAsBoolean());
        assertTrue(o.getAsJsonObject("generate").get("response").getAsString().startsWith("(emulated"));
        assertEquals(MODEL + ":latest", o.getAsJsonArray("list").get(0).getAsString());
        assertEquals(404, o.getAsJsonObject("missing").get("status").getAsInt());
    }

    @Test
    void mqttJsAsAn311DeviceAtQos0AndAsAnMqtt5ClientBothGetTheirResults() throws Exception {
        JsonObject o = json(run(node(), "mqtt-clients.mjs", "mqtt://127.0.0.1:" + broker.address().port(), MODEL));
        JsonObject v3 = o.getAsJsonObject("v3").getAsJsonObject("result");
        assertEquals("done", v3.get("outcome").getAsString());
        assertEquals("v3-" + o.get("pid").getAsString(), v3.get("id").getAsString());
        JsonObject v5 = o.getAsJsonObject("v5");
        assertEquals("done", v5.getAsJsonObject("result").get("outcome").getAsString());
        assertEquals("corr-" + o.get("pid").getAsString(), v5.get("correlation").getAsString(), "correlation data echoed");
    }

    @Test
    void thePahoExampleAsksAndStreams() throws Exception {
        Path python = Path.of("/usr/bin/python3");
        TestTools.require("paho for Python", "apt-get install python3-paho-mqtt", Files.isExecutable(python) && new ProcessBuilder(python.toString(), "-c", "import paho.mqtt")
                .start().waitFor() == 0);
        String out = run(List.of(python.toString(), EXAMPLES.resolve("paho_chat.py").toString(), "Hello from Python",
                "--port", String.valueOf(broker.address().port()), "--model", MODEL, "--stream"), null);
        List<String> lines = out.lines().toList();
        JsonObject result = JsonParser.parseString(lines.get(lines.size() - 1)).getAsJsonObject();
        assertEquals("done", result.get("outcome").getAsString());
        assertEquals(result.get("text").getAsString(), lines.get(lines.size() - 2), "the streamed text, then the result");
    }

    @Test
    void theShellExampleAsks() throws Exception {
        TestTools.require("mosquitto_pub and mosquitto_sub", "apt-get install mosquitto-clients", Files.isExecutable(Path.of("/usr/bin/mosquitto_pub")));
        String out = run(List.of("bash", EXAMPLES.resolve("ask.sh").toString(), "Hello \"shell\"", "127.0.0.1",
                String.valueOf(broker.address().port()), MODEL), null);
        JsonObject result = JsonParser.parseString(out.trim()).getAsJsonObject();
        assertEquals("done", result.get("outcome").getAsString());
    }
}
