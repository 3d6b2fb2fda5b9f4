package dev.axfleet.worker;

import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import dev.axfleet.broker.BrokerAddress;
import dev.axfleet.broker.Topics;
import dev.axfleet.broker.testing.TestBroker;
import dev.axfleet.broker.testing.TestMqttClient;
import dev.axfleet.broker.testing.TestMqttClient.Answer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * One real worker per test class on an embedded broker, its runtime the emulator, and a device-like MQTT
 * client that sends it jobs.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class WorkerHarness {
    static final Duration WAIT = Duration.ofSeconds(30);

    TestBroker broker;
    Worker worker;
    WorkerConfig config;
    TestMqttClient device;

    /** The configuration of the worker under test. */
    abstract WorkerConfig config(BrokerAddress broker, Path dir);

    @BeforeAll
    void start(@TempDir Path dir) throws InterruptedException {
        broker = TestBroker.embedded(dir.resolve("broker"));
        config = config(broker.address(), dir.resolve("worker"));
        worker = new Worker(config, config.runtime().create());
        worker.start();
        device = TestMqttClient.connect(broker.address(), "device");
        EmulatedWorkers.awaitReady(device, config);
    }

    @AfterAll
    void stop() {
        device.close();
        worker.close();
        broker.close();
    }

    /** Publishes a job as a device would and waits for its result. */
    Answer ask(String id, String paramsJson, boolean stream) throws InterruptedException {
        return ask(id, "chat", paramsJson, stream);
    }

    /** Publishes a job of {@code task} (chat, txt2img, img2img, interrogate) and waits for its result. */
    Answer ask(String id, String task, String paramsJson, boolean stream) throws InterruptedException {
        String reply = Topics.reply("device", id);
        BlockingQueue<Mqtt5Publish> inbox = device.subscribe(reply);
        device.publish(Topics.jobs(config.model()), "{\"id\":\"" + id + "\",\"task\":\"" + task + "\",\"reply_to\":\"" + reply
                + "\",\"stream\":" + stream + ",\"params\":" + paramsJson + "}");
        return TestMqttClient.await(inbox, WAIT);
    }
}
