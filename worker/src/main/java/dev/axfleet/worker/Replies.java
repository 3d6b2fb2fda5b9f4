package dev.axfleet.worker;

import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt5.Mqtt5AsyncClient;
import dev.axfleet.broker.AudioChunk;
import dev.axfleet.broker.Job;
import dev.axfleet.broker.JobDelta;
import dev.axfleet.broker.JobStatus;
import dev.axfleet.broker.Topics;
import dev.axfleet.broker.WireCodec;
import java.util.concurrent.CompletableFuture;

/**
 * What a worker publishes about jobs: deltas (QoS 1, numbered) and the result (QoS 2, so a result resent
 * after a broker restart reaches subscribers once) on the job's reply topic with the job's correlation
 * data, and state transitions on its status topic (QoS 0).
 */
final class Replies {
    private final Mqtt5AsyncClient client;

    Replies(Mqtt5AsyncClient client) {
        this.client = client;
    }

    /** Queued behind earlier publishes of this connection, so deltas arrive in order. */
    void delta(Job job, JobDelta delta) {
        reply(job.replyTo(), job.correlation(), WireCodec.encodeDelta(delta), MqttQos.AT_LEAST_ONCE);
    }

    /** An audio delta, queued in order with the others as {@link #delta} is. */
    void audio(Job job, AudioChunk chunk) {
        reply(job.replyTo(), job.correlation(), WireCodec.encodeAudio(chunk), MqttQos.AT_LEAST_ONCE);
    }

    /** Completes when the broker has acknowledged the result, encoded ({@link WireCodec#encodeResult}). */
    CompletableFuture<?> result(String replyTo, byte[] correlation, byte[] encodedResult) {
        return reply(replyTo, correlation, encodedResult, MqttQos.EXACTLY_ONCE);
    }

    /** An answer to a load or unload request (QoS 1: whoever asked matches it by id). */
    CompletableFuture<?> residency(String replyTo, byte[] encodedReply) {
        return reply(replyTo, null, encodedReply, MqttQos.AT_LEAST_ONCE);
    }

    void status(JobStatus status) {
        client.publishWith()
                .topic(Topics.status(status.model(), status.id()))
                .qos(MqttQos.AT_MOST_ONCE)
                .payload(WireCodec.encodeStatus(status))
                .send();
    }

    private CompletableFuture<?> reply(String topic, byte[] correlation, byte[] payload, MqttQos qos) {
        var p = client.publishWith().topic(topic).qos(qos).payload(payload);
        if (correlation != null) {
            p = p.correlationData(correlation);
        }
        return p.send();
    }
}
