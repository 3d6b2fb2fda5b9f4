package dev.axfleet.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import dev.axfleet.broker.Topics;
import dev.axfleet.broker.WireCodec;
import dev.axfleet.broker.WorkerState;
import dev.axfleet.broker.testing.TestBroker;
import dev.axfleet.broker.testing.TestMqttClient;
import dev.axfleet.emulator.EmulatedModel;
import dev.axfleet.emulator.card.EmulatedCard;
import dev.axfleet.worker.runtime.AxllmServeRuntime;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A worker whose runtime cannot start says why in words that say what to do, in its state (/health's last_error)
 * and its log: a model never pulled, a runtime program not installed, a card that is not there.
 */
class StartErrorsTest {
    static final String MODEL = "qwen3-1.7b";

    @TempDir
    Path dir;

    /** Starts a worker with {@code runtime} and returns the first last_error it publishes. */
    String firstError(AxllmServeRuntime.Config runtime) throws Exception {
        try (TestBroker broker = TestBroker.embedded(dir.resolve("broker"));
             TestMqttClient watcher = TestMqttClient.connect(broker.address(), "watcher")) {
            BlockingQueue<Mqtt5Publish> states = watcher.subscribe(Topics.workerState(MODEL, "pi1-" + MODEL));
            WorkerConfig c = new WorkerConfig(MODEL, "pi1-" + MODEL, broker.address(), dir.resolve("state"), 512, Duration.ofHours(1),
                    Duration.ofMillis(500), Duration.ofSeconds(30), new WorkerConfig.AxllmServe(runtime), EmulatedWorkers.CARD,
                    Duration.ofSeconds(20), 0, WorkerConfig.ContextOverflow.TRUNCATE);
            Worker worker = new Worker(c, c.runtime().create());
            worker.start();
            try {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (System.nanoTime() < deadline) {
                    Mqtt5Publish p = states.poll(500, TimeUnit.MILLISECONDS);
                    if (p != null) {
                        WorkerState s = WireCodec.decodeWorkerState(p.getPayloadAsBytes());
                        if (s.lastError() != null) {
                            assertEquals(WorkerState.Phase.RESTARTING, s.phase());
                            return s.lastError();
                        }
                    }
                }
                throw new AssertionError("no last_error within 30 s");
            } finally {
                worker.close();
            }
        }
    }

    AxllmServeRuntime.Config runtime(List<String> command, Path workDir, Map<String, String> env) {
        return new AxllmServeRuntime.Config(command, env, TestBroker.freePort(), workDir, dir.resolve("state"), Duration.ofSeconds(5),
                Duration.ofSeconds(10), Duration.ofSeconds(5), Duration.ofSeconds(1), Duration.ofMillis(50), null);
    }

    @Test
    void aModelNeverPulledSaysHowToPullIt() throws Exception {
        Path absent = dir.resolve("models/qwen3-1.7b");
        String error = firstError(runtime(EmulatedModel.axllmServe(absent, 1), absent, EmulatedWorkers.FAST));
        assertEquals("model qwen3-1.7b is not installed: run `sudo axfleet models pull qwen3-1.7b` (" + absent + " does not exist)", error);
    }

    @Test
    void aRuntimeProgramNotInstalledIsNamed() throws Exception {
        Path modelDir = EmulatedModel.writeModelDir(dir, "models", "Qwen3-1.7B");
        String error = firstError(runtime(List.of("axllm-not-here", "serve", modelDir.toString(), "--port", "1"), modelDir, Map.of()));
        assertTrue(error.startsWith("axllm is not installed: 'axllm-not-here' is not on PATH ("), error);
        assertTrue(error.endsWith("install it (docs/troubleshooting.md, \"Workers and the runtime\"), or set runtime.command to where it is"), error);
    }

    @Test
    void aCardThatIsNotThereIsSaidSo() throws Exception {
        EmulatedCard card = EmulatedCard.create(dir.resolve("card"));
        card.lose();
        Path modelDir = EmulatedModel.writeModelDir(dir, "models", "Qwen3-1.7B");
        Map<String, String> env = new HashMap<>(EmulatedWorkers.FAST);
        env.put("AXFLEET_EMULATOR_CARD", card.dir().toString());
        String error = firstError(runtime(EmulatedModel.axllmServe(modelDir, TestBroker.freePort()), modelDir, env));
        assertTrue(error.startsWith("the AX650 card is not there: ") && error.contains("could not open /dev/axcl_host (axcl init fail 0x8030010b)")
                && error.contains("lspci shows Axera ... Device 0650"), error);
    }
}
