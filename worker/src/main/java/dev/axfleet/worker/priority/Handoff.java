package dev.axfleet.worker.priority;

import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt5.Mqtt5AsyncClient;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5PublishResult;
import dev.axfleet.broker.Topics;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * A job handed from a worker's intake to the worker that runs it next (itself, or a free worker of the model): the
 * job's own bytes — payload, response topic, correlation data — on {@link Topics#handoff}, with the job topic it was
 * published on in a user property, so the job reads, digests and answers exactly as it would have from that topic.
 */
public final class Handoff {
    /** The user property that carries the job topic a handed-off job was published on (its priority, its model). */
    public static final String JOB_TOPIC = "axfleet-job-topic";
    /** The user property that names the worker whose intake handed the job over. */
    public static final String FROM = "axfleet-from";
    /** The user property that marks a handoff an earlier handoff of the same job may have preceded ({@code Handed.Resent#MAYBE}). */
    public static final String REPEAT = "axfleet-repeat";

    private Handoff() {
    }

    /**
     * The job topic a delivered job belongs to: its own topic, or for a handed-off job the one it was first published
     * on, when that is a job topic of the handoff topic's model (a worker cannot make another model's job run here).
     */
    public static String jobTopic(Mqtt5Publish p) {
        String topic = p.getTopic().toString();
        if (!Topics.isHandoff(topic)) {
            return topic;
        }
        String[] parts = topic.split("/");
        return property(p, JOB_TOPIC)
                .filter(original -> parts.length == 5 && Topics.modelOfJobTopic(original).filter(parts[3]::equals).isPresent())
                .orElse(topic);
    }

    /** The worker that handed {@code p} over, or empty when it came straight from a job topic. */
    public static Optional<String> from(Mqtt5Publish p) {
        return Topics.isHandoff(p.getTopic().toString()) ? property(p, FROM) : Optional.empty();
    }

    /**
     * A handoff that may repeat one that went out before (its intake stopped, or its acknowledgement came late): it runs
     * only when nobody answered the job; answered, it is acknowledged, not answered again.
     */
    public static boolean repeat(Mqtt5Publish p) {
        return Topics.isHandoff(p.getTopic().toString()) && property(p, REPEAT).isPresent();
    }

    private static Optional<String> property(Mqtt5Publish p, String name) {
        return p.getUserProperties().asList().stream().filter(u -> u.getName().toString().equals(name))
                .map(u -> u.getValue().toString()).findFirst();
    }

    /** Publishes {@code job} (as delivered from a job topic) to {@code target}'s handoff topic, QoS 1; {@code repeat}: see {@link #repeat}. */
    static CompletableFuture<Mqtt5PublishResult> send(Mqtt5AsyncClient client, String model, String target, String self, Mqtt5Publish job,
                                                      boolean repeat) {
        var props = com.hivemq.client.mqtt.mqtt5.datatypes.Mqtt5UserProperties.builder().add(JOB_TOPIC, job.getTopic().toString()).add(FROM, self);
        if (repeat) {
            props.add(REPEAT, "1");
        }
        var b = client.publishWith().topic(Topics.handoff(model, target)).qos(MqttQos.AT_LEAST_ONCE).payload(job.getPayloadAsBytes())
                .userProperties(props.build());
        if (job.getResponseTopic().isPresent()) {
            b = b.responseTopic(job.getResponseTopic().get());
        }
        if (job.getCorrelationData().isPresent()) {
            b = b.correlationData(job.getCorrelationData().get());
        }
        return b.send();
    }
}
