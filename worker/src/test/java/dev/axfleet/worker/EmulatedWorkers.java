package dev.axfleet.worker;

import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import dev.axfleet.broker.BrokerAddress;
import dev.axfleet.broker.CardRef;
import dev.axfleet.broker.Topics;
import dev.axfleet.broker.WireCodec;
import dev.axfleet.broker.WorkerState;
import dev.axfleet.broker.testing.TestMqttClient;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import dev.axfleet.broker.testing.TestBroker;
import dev.axfleet.emulator.EmulatedModel;
import dev.axfleet.emulator.card.EmulatedCard;
import dev.axfleet.emulator.image.EmulatedSdModel;
import dev.axfleet.worker.image.ClipTokenizer;
import dev.axfleet.worker.image.Sd15Runtime;
import dev.axfleet.worker.runtime.AxllmServeRuntime;
import dev.axfleet.worker.runtime.MainApiRuntime;
import dev.axfleet.worker.speech.StackFlowTtsRuntime;
import dev.axfleet.worker.transcribe.AsrServerRuntime;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/** Worker configurations that run the emulator where the card's runtime would run, fast (time scale 0.01). */
final class EmulatedWorkers {
    static final Map<String, String> FAST = Map.of("AXFLEET_EMULATOR_TIME_SCALE", "0.01");
    static final CardRef CARD = new CardRef("test-host", 0);

    private EmulatedWorkers() {
    }

    /** Waits for the worker's retained state to say READY, as an operator watching the bus would. */
    static void awaitReady(TestMqttClient client, WorkerConfig config) throws InterruptedException {
        awaitReady(client, config.model(), config.workerId());
    }

    static void awaitReady(TestMqttClient client, String model, String workerId) throws InterruptedException {
        BlockingQueue<Mqtt5Publish> states = client.subscribe(Topics.workerState(model, workerId));
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            Mqtt5Publish p = states.poll(1, TimeUnit.SECONDS);
            if (p != null && WireCodec.decodeWorkerState(p.getPayloadAsBytes()).phase() == WorkerState.Phase.READY) {
                return;
            }
        }
        throw new AssertionError("worker " + workerId + " not READY within 60 s");
    }

    static WorkerConfig axllm(BrokerAddress broker, String model, Path dir, Map<String, String> env) {
        int port = TestBroker.freePort();
        Path modelDir = EmulatedModel.writeModelDir(dir, "models", "Qwen3-1.7B");
        AxllmServeRuntime.Config rc = axllmRuntime(modelDir, dir.resolve("state"), port, env, 0, Duration.ofMinutes(30));
        return new WorkerConfig(model, "test-" + model, broker, dir.resolve("state"), 512, Duration.ofHours(1),
                Duration.ofMillis(500), Duration.ofSeconds(30), new WorkerConfig.AxllmServe(rc), CARD, Duration.ofSeconds(20), 0, WorkerConfig.ContextOverflow.TRUNCATE);
    }

    /**
     * The emulated {@code axllm serve} on an overlay of {@code modelDir} in {@code state}, as WorkerConfig starts the real
     * one: card {@code card}, {@code server_timeout_ms} {@code serverTimeout}.
     */
    static AxllmServeRuntime.Config axllmRuntime(Path modelDir, Path state, int port, Map<String, String> env, int card, Duration serverTimeout) {
        Path overlay = state.resolve("axllm-model");
        Map<String, String> withCard = new java.util.HashMap<>(env);
        withCard.putIfAbsent("AXLLM_DEVICES", String.valueOf(card));
        return new AxllmServeRuntime.Config(EmulatedModel.axllmServe(overlay, port), withCard, port, modelDir, state, Duration.ofSeconds(5),
                Duration.ofSeconds(10), Duration.ofSeconds(5), Duration.ofSeconds(1), Duration.ofMillis(50),
                new AxllmServeRuntime.Overlay(modelDir, overlay, card, serverTimeout));
    }

    /**
     * An SD1.5-LCM worker in-process on an emulated card ({@code dir/card}, its libaxcl_rt.so built with cc) with an
     * emulated model folder whose engines take the card's times {@code timeScale}.
     */
    static WorkerConfig sd15(BrokerAddress broker, String model, Path dir, double timeScale) {
        EmulatedCard card = EmulatedCard.create(dir.resolve("card"));
        Path modelDir = EmulatedSdModel.write(dir.resolve("sd15"), true, timeScale);
        ClipTokenizer.writeFiles(modelDir.resolve("tokenizer"), java.util.List.of());
        Sd15Runtime.Config rc = new Sd15Runtime.Config(card.buildLibrary().toString(), 0, modelDir, Duration.ofSeconds(5));
        return new WorkerConfig(model, "test-" + model, broker, dir.resolve("state"), 512, Duration.ofHours(1),
                Duration.ofMillis(500), Duration.ofSeconds(30), new WorkerConfig.Sd15Lcm(rc), CARD, Duration.ofSeconds(20), 0,
                WorkerConfig.ContextOverflow.TRUNCATE);
    }

    /** An image worker whose runtime is the emulated {@code axllm serve} of an SD1.5-LCM repository (the second engine). */
    static WorkerConfig axllmImages(BrokerAddress broker, String model, Path dir, Map<String, String> env) {
        int port = TestBroker.freePort();
        Path modelDir = EmulatedModel.writeImageModelDir(dir, "lcm-lora-sdv1-5");
        AxllmServeRuntime.Config rc = axllmRuntime(modelDir, dir.resolve("state"), port, env, 0, Duration.ofMinutes(30));
        return new WorkerConfig(model, "test-" + model, broker, dir.resolve("state"), 512, Duration.ofHours(1),
                Duration.ofMillis(500), Duration.ofSeconds(30), new WorkerConfig.AxllmServeImages(rc, Duration.ofSeconds(30)), CARD,
                Duration.ofSeconds(20), 0, WorkerConfig.ContextOverflow.TRUNCATE);
    }

    /** An embedding worker whose runtime is the emulated {@code axllm serve} of an embedding model folder. */
    static WorkerConfig axllmEmbeddings(BrokerAddress broker, String model, Path dir, Map<String, String> env) {
        int port = TestBroker.freePort();
        Path modelDir = EmulatedModel.writeModelDir(dir, "models", "Qwen3-Embedding-0.6B");
        AxllmServeRuntime.Config rc = axllmRuntime(modelDir, dir.resolve("state"), port, env, 0, Duration.ofMinutes(30));
        return new WorkerConfig(model, "test-" + model, broker, dir.resolve("state"), 512, Duration.ofHours(1),
                Duration.ofMillis(500), Duration.ofSeconds(30), new WorkerConfig.AxllmServeEmbeddings(rc, Duration.ofSeconds(30)), CARD,
                Duration.ofSeconds(20), 0, WorkerConfig.ContextOverflow.TRUNCATE);
    }

    /** A transcription worker whose runtime is the emulated {@code asr_server} on an emulated models folder, serving {@code asrModel}. */
    static WorkerConfig asrServer(BrokerAddress broker, String model, String asrModel, Path dir, Map<String, String> env) {
        int port = TestBroker.freePort();
        Path models = EmulatedModel.writeAsrModels(dir.resolve("asr-models"));
        AsrServerRuntime.Config rc = new AsrServerRuntime.Config(EmulatedModel.asrServer(models, port), env, port, models, dir.resolve("state"),
                Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ofMillis(50), asrModel, Duration.ofSeconds(30), 30.0);
        return new WorkerConfig(model, "test-" + model, broker, dir.resolve("state"), 512, Duration.ofHours(1),
                Duration.ofMillis(500), Duration.ofSeconds(30), new WorkerConfig.AsrServer(rc, models), CARD, Duration.ofSeconds(20), 0,
                WorkerConfig.ContextOverflow.TRUNCATE);
    }

    /** A speech worker whose runtime is the emulated StackFlow llm_sys with its melotts unit and one installed mode. */
    static WorkerConfig melotts(BrokerAddress broker, String model, String mode, Path dir, Map<String, String> env) {
        int port = TestBroker.freePort();
        Path modes = EmulatedModel.writeMelottsMode(dir.resolve("stackflow-models"), mode);
        StackFlowTtsRuntime.Config rc = new StackFlowTtsRuntime.Config(EmulatedModel.llmSys(modes, port), env, "127.0.0.1", port, dir,
                dir.resolve("state"), Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ofMillis(50), mode,
                mode.replaceFirst("^melotts-", "").replaceFirst("-axcl$", ""), Duration.ofSeconds(30), "llm_melotts");
        return new WorkerConfig(model, "test-" + model, broker, dir.resolve("state"), 512, Duration.ofHours(1),
                Duration.ofMillis(500), Duration.ofSeconds(30), new WorkerConfig.StackFlowTts(rc), CARD, Duration.ofSeconds(20), 0,
                WorkerConfig.ContextOverflow.TRUNCATE);
    }

    static WorkerConfig mainApi(BrokerAddress broker, String model, Path dir, Map<String, String> env) {
        int port = TestBroker.freePort();
        int tokenizerPort = TestBroker.freePort();
        Map<String, String> withPort = new java.util.HashMap<>(env);
        withPort.put("AXFLEET_EMULATOR_PORT", String.valueOf(port));
        MainApiRuntime.Config rc = new MainApiRuntime.Config(EmulatedModel.mainApi("Qwen3-1.7B", tokenizerPort),
                EmulatedModel.tokenizer(tokenizerPort), withPort, dir, port, tokenizerPort, dir.resolve("state"),
                Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ofSeconds(5), Duration.ofSeconds(1),
                Duration.ofMillis(20), Duration.ofMillis(300), "You are a test persona.", MainApiRuntime.Sampling.SHIPPED);
        return new WorkerConfig(model, "test-" + model, broker, dir.resolve("state"), 512, Duration.ofHours(1),
                Duration.ofMillis(500), Duration.ofSeconds(30), new WorkerConfig.MainApi(rc), CARD, Duration.ofSeconds(20), 0, WorkerConfig.ContextOverflow.TRUNCATE);
    }
}
