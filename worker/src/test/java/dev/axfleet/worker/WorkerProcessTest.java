package dev.axfleet.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import dev.axfleet.broker.JobResult;
import dev.axfleet.broker.Outcome;
import dev.axfleet.broker.Topics;
import dev.axfleet.broker.testing.TestBroker;
import dev.axfleet.broker.testing.TestMqttClient;
import dev.axfleet.emulator.EmulatedModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The worker as the Pi runs it, a process of its own configured by environment variables, killed with
 * SIGKILL in the middle of a job: the broker keeps the unacknowledged job, the restarted worker stops the
 * runtime its predecessor left behind, takes the job again and answers it exactly once.
 */
class WorkerProcessTest {
    static final String MODEL = "qwen3-kill";

    static Stream<Function<Path, TestBroker>> brokers() {
        return Stream.of(TestBroker::embedded, TestBroker::mosquitto);
    }

    @ParameterizedTest
    @MethodSource("brokers")
    void aWorkerKilledMidJobGetsTheJobAgainAndAnswersItExactlyOnce(Function<Path, TestBroker> kind, @TempDir Path dir) throws Exception {
        try (TestBroker broker = kind.apply(dir.resolve("broker"));
             TestMqttClient device = TestMqttClient.connect(broker.address(), "device")) {
            Map<String, String> env = workerEnvironment(broker, dir);
            Process first = startWorker(env, dir.resolve("worker-1.log"));
            Process second = null;
            try {
                awaitReady(device);
                BlockingQueue<Mqtt5Publish> status = device.subscribe(Topics.status(MODEL, "killed-1"));
                String reply = Topics.reply("device", "killed-1");
                BlockingQueue<Mqtt5Publish> answers = device.subscribe(reply);
                device.publish(Topics.jobs(MODEL), "{\"id\":\"killed-1\",\"reply_to\":\"" + reply
                        + "\",\"params\":{\"prompt\":\"a long answer please\",\"max_tokens\":60}}");
                assertTrue(status.poll(30, TimeUnit.SECONDS) != null, "the job started running");
                first.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                assertNull(answers.poll(500, TimeUnit.MILLISECONDS), "no answer from the killed worker");

                second = startWorker(env, dir.resolve("worker-2.log"));
                JobResult r = TestMqttClient.await(answers, Duration.ofSeconds(60)).result();
                assertEquals("killed-1", r.id());
                assertEquals(Outcome.DONE, r.outcome(), () -> String.valueOf(r.error()));
                assertNull(answers.poll(1500, TimeUnit.MILLISECONDS), "answered exactly once");
                assertTrue(Files.readString(dir.resolve("worker-2.log")).contains("left by an earlier worker"),
                        "the restarted worker stopped the runtime its predecessor left running");
            } finally {
                stop(first);
                stop(second);
            }
        }
    }

    /**
     * The broker restarts (persistence on) while the worker runs a job: the job is answered once, and the jobs
     * after it are taken on the new connection. On Mosquitto 2.0.11 the broker resends the held job on the new
     * connection while the client still counted it against Receive Maximum 1, and the client dropped every
     * new connection as a protocol error (the soak's finding, docs/reliability.md).
     */
    @ParameterizedTest
    @MethodSource("brokers")
    void aJobRunningWhileTheBrokerRestartsIsAnsweredOnceAndTheNextJobsFollow(Function<Path, TestBroker> kind, @TempDir Path dir)
            throws Exception {
        try (TestBroker broker = kind.apply(dir.resolve("broker"))) {
            Map<String, String> env = workerEnvironment(broker, dir);
            env.put("AXFLEET_RUNTIME_ENV", "AXFLEET_EMULATOR_TIME_SCALE=0.3");
            Process worker = startWorker(env, dir.resolve("worker.log"));
            try {
                BlockingQueue<Mqtt5Publish> answers;
                try (TestMqttClient device = TestMqttClient.connect(broker.address(), "device")) {
                    awaitReady(device);
                    BlockingQueue<Mqtt5Publish> status = device.subscribe(Topics.status(MODEL, "held-1"));
                    device.publish(Topics.jobs(MODEL), "{\"id\":\"held-1\",\"reply_to\":\"" + Topics.reply("device2", "held-1")
                            + "\",\"params\":{\"prompt\":\"a long answer please\",\"max_tokens\":80}}");
                    assertTrue(status.poll(30, TimeUnit.SECONDS) != null, "the job started running");
                }
                broker.restart();
                try (TestMqttClient device = TestMqttClient.connect(broker.address(), "device2")) {
                    answers = device.subscribe(Topics.replies("device2"));
                    for (int i = 2; i <= 3; i++) {
                        device.publishUntilSubscribed(Topics.jobs(MODEL), "{\"id\":\"held-" + i + "\",\"reply_to\":\""
                                + Topics.reply("device2", "held-" + i) + "\",\"params\":{\"prompt\":\"short\",\"max_tokens\":5}}",
                                Duration.ofSeconds(20));
                    }
                    Map<String, Integer> results = new HashMap<>();
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
                    while (results.size() < 3 && System.nanoTime() < deadline) {
                        Mqtt5Publish p = answers.poll(500, TimeUnit.MILLISECONDS);
                        if (p != null && dev.axfleet.broker.WireCodec.decodeReply(p.getPayloadAsBytes()) instanceof JobResult r) {
                            assertEquals(Outcome.DONE, r.outcome(), r.toString());
                            results.merge(r.id(), 1, Integer::sum);
                        }
                    }
                    assertEquals(Map.of("held-1", 1, "held-2", 1, "held-3", 1), results, () -> "answered once each, on " + broker + "; worker log:\n"
                            + tail(dir.resolve("worker.log")));
                }
                String log = Files.readString(dir.resolve("worker.log"));
                assertTrue(!log.contains("than allowed by receive maximum"), "no Receive Maximum violation on " + broker);
            } finally {
                stop(worker);
            }
        }
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        } catch (IOException e) {
            return e.toString();
        }
    }

    private static Map<String, String> workerEnvironment(TestBroker broker, Path dir) {
        int port = TestBroker.freePort();
        Path modelDir = EmulatedModel.writeModelDir(dir, "models", "Qwen3-1.7B");
        String command = EmulatedModel.axllmServe(modelDir, port).stream().map(a -> "'" + a + "'").collect(Collectors.joining(" "));
        Map<String, String> env = new HashMap<>();
        env.put("AXFLEET_CONFIG", dir.resolve("no-such-file.conf").toString());
        env.put("AXFLEET_WORKER_MODEL", MODEL);
        env.put("AXFLEET_WORKER_ID", "kill-test");
        env.put("AXFLEET_BROKER_URL", "mqtt://127.0.0.1:" + broker.address().port());
        env.put("AXFLEET_WORKER_STATE_DIR", dir.resolve("state").toString());
        env.put("AXFLEET_RUNTIME_MODEL_DIR", modelDir.toString());
        env.put("AXFLEET_RUNTIME_PORT", String.valueOf(port));
        env.put("AXFLEET_RUNTIME_COMMAND", command);
        env.put("AXFLEET_RUNTIME_ENV", "AXFLEET_EMULATOR_TIME_SCALE=0.05");
        env.put("AXFLEET_RUNTIME_STOP_GRACE", "5s");
        return env;
    }

    private static Process startWorker(Map<String, String> env, Path log) throws IOException {
        // Started as from a background shell job: SIGINT ignored, and inherited so by everything it starts. The
        // worker still stops its predecessor's runtime with SIGINT at once, not after the load grace.
        ProcessBuilder pb = new ProcessBuilder(List.of("bash", "-c", "trap '' INT; exec \"$@\"", "worker",
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx128m", "-cp", System.getProperty("java.class.path"), WorkerMain.class.getName()))
                .redirectErrorStream(true)
                .redirectOutput(log.toFile());
        pb.environment().putAll(env);
        return pb.start();
    }

    private static void awaitReady(TestMqttClient device) throws InterruptedException {
        EmulatedWorkers.awaitReady(device, MODEL, "kill-test");
    }

    private static void stop(Process p) throws InterruptedException {
        if (p != null && p.isAlive()) {
            p.destroy();
            if (!p.waitFor(20, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        }
    }
}
