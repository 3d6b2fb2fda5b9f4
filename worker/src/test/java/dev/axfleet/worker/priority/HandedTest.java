package dev.axfleet.worker.priority;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import dev.axfleet.broker.Priority;
import dev.axfleet.broker.Topics;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The intake's redelivery rule: a job handed off is acknowledged, not handed again, when its connection's next connection starts with it. */
class HandedTest {
    static final Function<Mqtt5Publish, String> DIGEST = p -> new String(p.getPayloadAsBytes(), StandardCharsets.UTF_8);

    static Mqtt5Publish job(String payload, MqttQos qos) {
        return Mqtt5Publish.builder().topic(Topics.jobs("m", Priority.LOW)).qos(qos).payload(payload.getBytes(StandardCharsets.UTF_8)).build();
    }

    @Test
    void theJobHandedOffComesBackFirstOnTheNextConnection(@TempDir Path dir) {
        Handed h = new Handed(dir.resolve("handed-off.txt"), DIGEST);
        h.handing(Priority.LOW, job("a", MqttQos.AT_LEAST_ONCE));
        assertEquals(Handed.Resent.HANDED, h.resent(Priority.LOW, job("a", MqttQos.AT_LEAST_ONCE), true), "the broker resent it: acknowledge, do not hand off again");
        assertEquals(Handed.Resent.NO, h.resent(Priority.NORMAL, job("a", MqttQos.AT_LEAST_ONCE), true), "another priority's connection has its own");
        assertEquals(Handed.Resent.NO, h.resent(Priority.LOW, job("b", MqttQos.AT_LEAST_ONCE), false), "the next job: the broker had the acknowledgement");
        assertEquals(Handed.Resent.NO, h.resent(Priority.LOW, job("a", MqttQos.AT_LEAST_ONCE), true), "the same bytes later are a new job");
        h.close();
    }

    @Test
    void aJobThatIsNotTheFirstOfItsConnectionIsNeverTheResentOne(@TempDir Path dir) {
        Handed h = new Handed(dir.resolve("handed-off.txt"), DIGEST);
        h.handing(Priority.HIGH, job("a", MqttQos.AT_LEAST_ONCE));
        assertEquals(Handed.Resent.NO, h.resent(Priority.HIGH, job("a", MqttQos.AT_LEAST_ONCE), false), "a paste of the same job after it: a new job");
        h.handing(Priority.HIGH, job("q", MqttQos.AT_MOST_ONCE));
        assertEquals(Handed.Resent.NO, h.resent(Priority.HIGH, job("q", MqttQos.AT_MOST_ONCE), true), "QoS 0 is never resent");
        h.close();
    }

    @Test
    void aWorkerThatRestartsKnowsWhatItHandedOff(@TempDir Path dir) {
        Handed first = new Handed(dir.resolve("handed-off.txt"), DIGEST);
        first.handing(Priority.NORMAL, job("x", MqttQos.AT_LEAST_ONCE));
        first.handing(Priority.LOW, job("y", MqttQos.AT_LEAST_ONCE));
        assertEquals(Handed.Resent.NO, first.resent(Priority.LOW, job("z", MqttQos.AT_LEAST_ONCE), false));
        first.close();
        Handed again = new Handed(dir.resolve("handed-off.txt"), DIGEST);
        assertEquals(Handed.Resent.HANDED, again.resent(Priority.NORMAL, job("x", MqttQos.AT_LEAST_ONCE), true));
        assertEquals(Handed.Resent.NO, again.resent(Priority.LOW, job("y", MqttQos.AT_LEAST_ONCE), true), "its acknowledgement was known to have arrived");
        again.close();
    }

    @Test
    void aWorkerThatStoppedWhileAHandoffWasGoingOutHandsItOffAgainAsAPossibleRepeat(@TempDir Path dir) {
        Handed first = new Handed(dir.resolve("handed-off.txt"), DIGEST);
        first.sending(Priority.NORMAL, job("x", MqttQos.AT_LEAST_ONCE));
        first.sending(Priority.LOW, job("y", MqttQos.AT_LEAST_ONCE));
        first.notSent(Priority.LOW);
        first.sending(Priority.HIGH, job("z", MqttQos.AT_LEAST_ONCE));
        first.handing(Priority.HIGH, job("z", MqttQos.AT_LEAST_ONCE));
        first.close();
        Handed again = new Handed(dir.resolve("handed-off.txt"), DIGEST);
        assertEquals(Handed.Resent.MAYBE, again.resent(Priority.NORMAL, job("x", MqttQos.AT_LEAST_ONCE), true),
                "its handoff may or may not have reached the broker");
        assertEquals(Handed.Resent.NO, again.resent(Priority.LOW, job("y", MqttQos.AT_LEAST_ONCE), true), "its handoff failed: it is a job to decide");
        assertEquals(Handed.Resent.HANDED, again.resent(Priority.HIGH, job("z", MqttQos.AT_LEAST_ONCE), true), "the broker took its handoff");
        again.close();
        Handed third = new Handed(dir.resolve("handed-off.txt"), DIGEST);
        assertEquals(Handed.Resent.NO, third.resent(Priority.NORMAL, job("x", MqttQos.AT_LEAST_ONCE), true), "decided once, then forgotten");
        third.close();
    }
}
