package dev.axfleet.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.hivemq.client.mqtt.MqttClient;
import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt5.Mqtt5AsyncClient;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import dev.axfleet.broker.BrokerAddress;
import dev.axfleet.broker.MqttClients;
import dev.axfleet.broker.CardRef;
import dev.axfleet.broker.Topics;
import dev.axfleet.broker.testing.TestBroker;
import dev.axfleet.broker.testing.TestTools;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Mosquitto configuration and ACL that installations get (deploy/mosquitto), loaded the way Debian's
 * Mosquitto loads them (its main file including conf.d/), on a test port: nobody without a password, and
 * each user limited to its part of the protocol.
 */
class MosquittoConfigTest {

    @Test
    void theShippedConfigLoadsAndItsAclKeepsEachUserToItsPart(@TempDir Path dir) throws Exception {
        Path mosquitto = Path.of("/usr/sbin/mosquitto");
        Path passwd = Path.of("/usr/bin/mosquitto_passwd");
        TestTools.require("mosquitto and mosquitto_passwd", "apt-get install mosquitto", Files.isExecutable(mosquitto) && Files.isExecutable(passwd));
        Path shipped = Path.of("mosquitto").toAbsolutePath();
        int port = TestBroker.freePort();
        Files.createDirectories(dir.resolve("conf.d"));
        Files.writeString(dir.resolve("conf.d/axfleet.conf"), Files.readString(shipped.resolve("axfleet.conf"))
                .replace("listener 1883 127.0.0.1", "listener " + port + " 127.0.0.1")
                .replace("/etc/mosquitto/axfleet.passwd", dir.resolve("passwd").toString())
                .replace("/etc/mosquitto/axfleet.acl", shipped.resolve("axfleet.acl").toString()));
        // Debian's /etc/mosquitto/mosquitto.conf, with the test's own folder and user.
        Files.writeString(dir.resolve("mosquitto.conf"), String.join("\n",
                "user " + System.getProperty("user.name"),
                "persistence true",
                "persistence_location " + dir + "/",
                "log_dest stderr",
                "include_dir " + dir.resolve("conf.d"), ""));
        Files.writeString(dir.resolve("passwd"), "");
        for (String user : new String[] {"device", "worker", "gateway", "monitor", "homeassistant"}) {
            Process p = new ProcessBuilder(passwd.toString(), "-b", dir.resolve("passwd").toString(), user, "pw-" + user)
                    .redirectErrorStream(true).start();
            assertEquals(0, p.waitFor());
        }
        Process broker = startMosquitto(mosquitto, dir);
        try {
            awaitPort(port);
            BrokerAddress at = BrokerAddress.loopback(port);
            Mqtt5AsyncClient anonymous = MqttClient.builder().useMqttVersion5().identifier("anonymous")
                    .serverHost("127.0.0.1").serverPort(port).buildAsync();
            assertThrows(ExecutionException.class, () -> anonymous.connect().get(5, TimeUnit.SECONDS),
                    "no connection without a password");

            Mqtt5AsyncClient device = connected(at.withCredentials("device", "pw-device"), "device-1");
            Mqtt5AsyncClient worker = connected(at.withCredentials("worker", "pw-worker"), "worker-1");
            BlockingQueue<Mqtt5Publish> replies = new LinkedBlockingQueue<>();
            device.publishes(MqttGlobalPublishFilter.SUBSCRIBED, replies::add);
            device.subscribeWith().topicFilter("devices/lamp1/#").qos(MqttQos.AT_LEAST_ONCE).send().get(5, TimeUnit.SECONDS);

            publish(device, Topics.jobs("qwen3-1.7b"), "{}");
            assertThrows(ExecutionException.class, () -> publish(device, Topics.workerState("qwen3-1.7b", "forged"), "{}"),
                    "a device may not pose as a worker");
            publish(worker, Topics.workerState("qwen3-1.7b", "w1"), "{}");
            publish(worker, "devices/lamp1/answer", "hello lamp");
            Mqtt5Publish got = replies.poll(5, TimeUnit.SECONDS);
            assertEquals("hello lamp", got == null ? null : new String(got.getPayloadAsBytes(), StandardCharsets.UTF_8));
            assertThrows(ExecutionException.class, () -> publish(worker, Topics.jobs("qwen3-1.7b"), "{}"),
                    "a worker does not publish jobs");
            publish(device, Topics.jobs("qwen3-1.7b", dev.axfleet.broker.Priority.HIGH), "{}");
            publish(worker, Topics.handoff("qwen3-1.7b", "w1"), "{}");
            assertThrows(ExecutionException.class, () -> publish(device, Topics.handoff("qwen3-1.7b", "w1"), "{}"),
                    "a device cannot hand a job to a worker directly");

            // Card control: devices cannot reach it, the gateway's admin route can, the monitor reads it.
            CardRef card = new CardRef("pi-1", 0);
            Mqtt5AsyncClient monitor = connected(at.withCredentials("monitor", "pw-monitor"), "monitor-1");
            Mqtt5AsyncClient gateway = connected(at.withCredentials("gateway", "pw-gateway"), "gateway-1");
            BlockingQueue<Mqtt5Publish> control = new LinkedBlockingQueue<>();
            monitor.publishes(MqttGlobalPublishFilter.SUBSCRIBED, control::add);
            monitor.subscribeWith().topicFilter(Topics.cardControls("pi-1")).qos(MqttQos.AT_LEAST_ONCE).send().get(5, TimeUnit.SECONDS);
            assertThrows(ExecutionException.class, () -> publish(device, Topics.cardControl(card), "{\"action\":\"reset\"}"),
                    "a device may not reset the card");
            publish(gateway, Topics.cardControl(card), "{\"action\":\"reset\",\"by\":\"admin-http\"}");
            Mqtt5Publish reset = control.poll(5, TimeUnit.SECONDS);
            assertEquals("{\"action\":\"reset\",\"by\":\"admin-http\"}",
                    reset == null ? null : new String(reset.getPayloadAsBytes(), StandardCharsets.UTF_8));
            assertThrows(ExecutionException.class, () -> publish(gateway, Topics.card(card), "{}"), "only the monitor reports cards");

            // Voice turns: a device asks, a gateway takes the turn through the shared subscription and answers where asked.
            BlockingQueue<Mqtt5Publish> turns = new LinkedBlockingQueue<>();
            gateway.publishes(MqttGlobalPublishFilter.SUBSCRIBED, turns::add);
            gateway.subscribeWith().topicFilter(Topics.voiceShared()).qos(MqttQos.AT_LEAST_ONCE).send().get(5, TimeUnit.SECONDS);
            publish(device, Topics.voice(), "{\"id\":\"v1\",\"reply_to\":\"devices/lamp1/voice\"}");
            Mqtt5Publish turn = turns.poll(5, TimeUnit.SECONDS);
            assertEquals(Topics.voice(), turn == null ? null : turn.getTopic().toString(), "the gateway takes a device's voice turn");
            publish(gateway, "devices/lamp1/voice", "{\"type\":\"result\"}");
            Mqtt5Publish answer = replies.poll(5, TimeUnit.SECONDS);
            assertEquals("{\"type\":\"result\"}", answer == null ? null : new String(answer.getPayloadAsBytes(), StandardCharsets.UTF_8),
                    "and answers it on the device's reply topic");
            publish(monitor, Topics.card(card), "{}");

            // Home Assistant: the monitor's discovery configs and the retained topics they point at, nothing else.
            String config = "homeassistant/sensor/axfleet_pi-1_card0/temperature/config";
            publish(monitor, config, "{\"state_topic\":\"axfleet/v1/cards/pi-1/0\"}", true);
            publish(monitor, Topics.card(card), "{\"state\":\"ok\"}", true);
            publish(worker, Topics.workerState("qwen3-1.7b", "w1"), "{\"phase\":\"ready\"}", true);
            Mqtt5AsyncClient ha = connected(at.withCredentials("homeassistant", "pw-homeassistant"), "home-assistant");
            BlockingQueue<Mqtt5Publish> seen = new LinkedBlockingQueue<>();
            ha.publishes(MqttGlobalPublishFilter.SUBSCRIBED, seen::add);
            // As Home Assistant subscribes (discovery.py: <prefix>/+/+/config and /+/+/+/config; then each state topic), and more.
            for (String filter : new String[] {"homeassistant/#", "axfleet/v1/#"}) {
                ha.subscribeWith().topicFilter(filter).qos(MqttQos.AT_LEAST_ONCE).send().get(5, TimeUnit.SECONDS);
            }
            publish(gateway, Topics.jobs("qwen3-1.7b"), "{\"id\":\"not-for-home-assistant\"}");
            publish(worker, Topics.status("qwen3-1.7b", "not-for-home-assistant"), "{}");
            java.util.Set<String> topics = new java.util.TreeSet<>();
            for (Mqtt5Publish m; (m = seen.poll(2, TimeUnit.SECONDS)) != null; ) {
                topics.add(m.getTopic().toString());
            }
            assertEquals(java.util.Set.of(config, Topics.card(card), Topics.workerState("qwen3-1.7b", "w1")), topics,
                    "Home Assistant reads exactly the discovery configs, the cards and the workers");
            assertThrows(ExecutionException.class, () -> publish(ha, Topics.jobs("qwen3-1.7b"), "{}"), "Home Assistant sends no jobs");
            assertThrows(ExecutionException.class, () -> publish(ha, config, "{}"), "nor configs of its own");
            // Its birth message (homeassistant/status) is refused without closing its connection.
            assertThrows(ExecutionException.class, () -> publish(ha, "homeassistant/status", "online"));
            publish(monitor, config, "", true);
            ha.disconnect();
            monitor.disconnect();
            gateway.disconnect();

            // Persistence: a job queued for a worker that is away survives a broker restart.
            Mqtt5AsyncClient away = MqttClients.builder(at.withCredentials("worker", "pw-worker"), "worker-away").buildAsync();
            // As the worker does: clean start off (Mosquitto 2.0.11 does not save clean-start sessions at shutdown).
            away.connectWith().cleanStart(false).sessionExpiryInterval(3600).send().get(5, TimeUnit.SECONDS);
            away.subscribeWith().topicFilter(Topics.jobsShared("qwen3-1.7b")).qos(MqttQos.AT_LEAST_ONCE).send().get(5, TimeUnit.SECONDS);
            away.disconnect().get(5, TimeUnit.SECONDS);
            publish(device, Topics.jobs("qwen3-1.7b"), "{\"id\":\"kept\"}");
            device.disconnect();
            worker.disconnect();
            broker.destroy();
            broker.waitFor(10, TimeUnit.SECONDS);
            broker = startMosquitto(mosquitto, dir);
            awaitPort(port);
            BlockingQueue<Mqtt5Publish> kept = new LinkedBlockingQueue<>();
            Mqtt5AsyncClient back = MqttClients.builder(at.withCredentials("worker", "pw-worker"), "worker-away").buildAsync();
            back.publishes(MqttGlobalPublishFilter.ALL, kept::add);
            back.connectWith().cleanStart(false).sessionExpiryInterval(3600).send().get(5, TimeUnit.SECONDS);
            Mqtt5Publish job = kept.poll(5, TimeUnit.SECONDS);
            assertEquals("{\"id\":\"kept\"}", job == null ? null : new String(job.getPayloadAsBytes(), StandardCharsets.UTF_8),
                    "the queued job survived the restart");
            back.disconnect();
        } finally {
            broker.destroy();
            broker.waitFor(10, TimeUnit.SECONDS);
        }
    }

    private static Process startMosquitto(Path binary, Path dir) throws IOException {
        return new ProcessBuilder(binary.toString(), "-c", dir.resolve("mosquitto.conf").toString())
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("mosquitto.log").toFile())).start();
    }

    private static Mqtt5AsyncClient connected(BrokerAddress at, String id) throws Exception {
        Mqtt5AsyncClient c = MqttClients.builder(at, id).buildAsync();
        c.connect().get(5, TimeUnit.SECONDS);
        return c;
    }

    private static void publish(Mqtt5AsyncClient c, String topic, String payload) throws Exception {
        publish(c, topic, payload, false);
    }

    private static void publish(Mqtt5AsyncClient c, String topic, String payload, boolean retain) throws Exception {
        c.publishWith().topic(topic).qos(MqttQos.AT_LEAST_ONCE).retain(retain).payload(payload.getBytes(StandardCharsets.UTF_8)).send()
                .get(5, TimeUnit.SECONDS);
    }

    private static void awaitPort(int port) throws InterruptedException {
        for (int i = 0; i < 100; i++) {
            try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
                return;
            } catch (IOException e) {
                Thread.sleep(50);
            }
        }
        throw new AssertionError("mosquitto did not listen on " + port);
    }
}
