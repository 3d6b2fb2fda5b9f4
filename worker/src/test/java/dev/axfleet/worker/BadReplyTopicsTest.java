package dev.axfleet.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import dev.axfleet.broker.ErrorCode;
import dev.axfleet.broker.JobResult;
import dev.axfleet.broker.Outcome;
import dev.axfleet.broker.Topics;
import dev.axfleet.broker.testing.TestBroker;
import dev.axfleet.broker.testing.TestMqttClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A reply topic holding what MQTT 5 section 1.5.4 says a string should not (control characters, non-characters) is
 * refused at the job's default result topic, and the worker goes on. Answered there instead, the broker (HiveMQ CE)
 * dropped the worker's job connection, gave the job back and dropped it again, for ever: FuzzTest found it.
 */
class BadReplyTopicsTest {
    static final String MODEL = "qwen3-1.7b";

    @TempDir
    Path dir;

    @Test
    void aReplyTopicTheBrokerWouldRefuseIsAnsweredAtTheResultTopicAndTheWorkerGoesOn() throws Exception {
        try (TestBroker broker = TestBroker.embedded(dir.resolve("broker"))) {
            WorkerConfig c = EmulatedWorkers.axllm(broker.address(), MODEL, dir.resolve("w"), EmulatedWorkers.FAST);
            try (Worker worker = new Worker(c, c.runtime().create()); TestMqttClient device = TestMqttClient.connect(broker.address(), "device")) {
                worker.start();
                EmulatedWorkers.awaitReady(device, c);
                // JSON escapes, as a device's firmware would write them: U+0001, U+007F, U+0085, U+FDD0, U+FFFF, U+10FFFF.
                List<String> bad = List.of("a\\u0001b", "a\\u007Fb", "a\\u0085b", "a\\uFDD0b", "a\\uFFFFb", "x/\\uDBFF\\uDFFF");
                for (int i = 0; i < bad.size(); i++) {
                    String id = "bad" + i;
                    BlockingQueue<Mqtt5Publish> refused = device.subscribe(Topics.defaultResult(MODEL, id));
                    device.publish(Topics.jobs(MODEL), "{\"id\":\"" + id + "\",\"reply_to\":\"" + bad.get(i) + "\",\"params\":{\"prompt\":\"hi\"}}");
                    JobResult r = TestMqttClient.await(refused, Duration.ofSeconds(20)).result();
                    assertEquals(Outcome.ERROR, r.outcome(), bad.get(i));
                    assertEquals(ErrorCode.INVALID_JOB, r.error().code(), bad.get(i));
                    assertEquals("reply_to", r.error().field(), bad.get(i));
                }
                BlockingQueue<Mqtt5Publish> reply = device.subscribe(Topics.reply("device", "after"));
                device.publish(Topics.jobs(MODEL), "{\"id\":\"after\",\"reply_to\":\"" + Topics.reply("device", "after")
                        + "\",\"params\":{\"prompt\":\"still there?\",\"max_tokens\":2}}");
                assertEquals(Outcome.DONE, TestMqttClient.await(reply, Duration.ofSeconds(20)).result().outcome());
            }
        }
    }
}
