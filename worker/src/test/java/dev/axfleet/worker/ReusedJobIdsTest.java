package dev.axfleet.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.axfleet.broker.Topics;
import dev.axfleet.broker.testing.TestBroker;
import dev.axfleet.broker.testing.TestTools;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A job id used again is answered again, on Mosquitto with its own clients as a person and a device use them:
 * docs/protocol.md's example pasted twice, a device that reboots and counts b1, b2 … from 1 again, and the same job
 * reaching the other worker of a shared subscription.
 */
class ReusedJobIdsTest {
    static final String MODEL = "qwen3-1.7b";
    static final String DOC_JOB = "{\"id\":\"j1\",\"reply_to\":\"axfleet/v1/reply/me/j1\",\"params\":{\"prompt\":\"Say hello to the visitors\"}}";

    @TempDir
    Path dir;
    TestBroker broker;
    final List<Worker> workers = new ArrayList<>();

    void start(int count) throws InterruptedException {
        TestTools.require("mosquitto_pub and mosquitto_sub", "apt-get install mosquitto-clients", Files.isExecutable(Path.of("/usr/bin/mosquitto_pub")));
        broker = TestBroker.mosquitto(dir.resolve("broker"));
        for (int i = 1; i <= count; i++) {
            WorkerConfig base = EmulatedWorkers.axllm(broker.address(), MODEL, dir.resolve("w" + i), EmulatedWorkers.FAST);
            WorkerConfig c = new WorkerConfig(base.model(), "pi" + i + "-" + MODEL, base.broker(), base.stateDir(), base.defaultMaxTokens(),
                    base.sessionExpiry(), base.healthInterval(), base.loadTimeout(), base.runtime(), base.card(), base.cardStale(), base.cmmMiB(),
                    base.contextOverflow());
            Worker w = new Worker(c, c.runtime().create());
            w.start();
            workers.add(w);
            try (var watcher = dev.axfleet.broker.testing.TestMqttClient.connect(broker.address(), "watch-" + i)) {
                EmulatedWorkers.awaitReady(watcher, c);
            }
        }
    }

    @AfterEach
    void stop() {
        workers.forEach(Worker::close);
        if (broker != null) {
            broker.close();
        }
    }

    /** A mosquitto_sub waiting for {@code count} messages on {@code topic}, as the docs start it. */
    Process listen(String topic, int count) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("mosquitto_sub", "-h", "127.0.0.1", "-p", String.valueOf(broker.address().port()), "-q", "1",
                "-t", topic, "-C", String.valueOf(count), "-W", "40").redirectErrorStream(true).start();
        Thread.sleep(500);
        return p;
    }

    void pub(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("mosquitto_pub", "-h", "127.0.0.1", "-p", String.valueOf(broker.address().port())));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        assertEquals(0, p.waitFor(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
    }

    static List<JsonObject> results(Process listener) throws Exception {
        assertTrue(listener.waitFor(45, TimeUnit.SECONDS));
        List<JsonObject> out = new ArrayList<>();
        for (String line : new String(listener.getInputStream().readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
            if (!line.isBlank()) {
                out.add(JsonParser.parseString(line).getAsJsonObject());
            }
        }
        return out;
    }

    @Test
    void theProtocolDocumentsExamplePastedTwiceIsAnsweredTwice() throws Exception {
        start(1);
        Process listener = listen("axfleet/v1/reply/me/#", 2);
        pub("-q", "1", "-t", Topics.jobs(MODEL), "-m", DOC_JOB);
        Thread.sleep(1500);
        pub("-q", "1", "-t", Topics.jobs(MODEL), "-m", DOC_JOB);
        List<JsonObject> got = results(listener);
        assertEquals(2, got.size(), "two pastes, two answers: " + got);
        for (JsonObject r : got) {
            assertEquals("j1", r.get("id").getAsString());
            assertEquals("done", r.get("outcome").getAsString());
        }
        assertEquals(got.get(0).get("text"), got.get(1).get("text"), "within the replay window the second paste gets the same answer");
    }

    @Test
    void aDeviceThatRebootsAndCountsFromOneIsAnsweredEveryTime() throws Exception {
        start(1);
        Process listener = listen("devices/lamp1/answer", 4);
        for (int boot = 1; boot <= 2; boot++) {
            for (int n = 1; n <= 2; n++) {
                // PubSubClient's way: MQTT 3.1.1, QoS 0, a fresh connection each boot; the same ids after the reboot.
                pub("-V", "mqttv311", "-q", "0", "-i", "lamp1", "-t", Topics.jobs(MODEL),
                        "-m", "{\"id\":\"b" + n + "\",\"reply_to\":\"devices/lamp1/answer\",\"params\":{\"prompt\":\"boot " + boot + " line " + n + "\"}}");
                Thread.sleep(800);
            }
        }
        List<JsonObject> got = results(listener);
        assertEquals(List.of("b1", "b2", "b1", "b2"), got.stream().map(r -> r.get("id").getAsString()).toList(), got.toString());
        got.forEach(r -> assertEquals("done", r.get("outcome").getAsString(), r.toString()));
        assertNotEquals(got.get(0).get("text"), got.get(2).get("text"), "after the reboot b1 is a new job, run again");
    }

    @Test
    void theSameJobReachingTheOtherWorkerOfTheModelIsNotRunAgain() throws Exception {
        start(2);
        Process listener = listen("axfleet/v1/reply/me/#", 2);
        pub("-q", "1", "-t", Topics.jobs(MODEL), "-m", DOC_JOB);
        Thread.sleep(1500);
        pub("-q", "1", "-t", Topics.jobs(MODEL), "-m", DOC_JOB); // Mosquitto's round robin hands it to the other worker
        List<JsonObject> got = results(listener);
        assertEquals(2, got.size(), got.toString());
        assertEquals(got.get(0).get("worker"), got.get(1).get("worker"), "the second answer is the first worker's result, not a second run");
        assertEquals(got.get(0).get("text"), got.get(1).get("text"));
        for (int i = 1; i <= 2; i++) {
            String record = Files.readString(dir.resolve("w" + i + "/state/answered-jobs.txt"));
            assertTrue(record.contains("D\t"), "worker " + i + " was handed one of the two: " + record);
        }
    }
}
