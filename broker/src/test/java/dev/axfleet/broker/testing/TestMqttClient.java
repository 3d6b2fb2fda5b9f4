package dev.axfleet.broker.testing;

import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.datatypes.MqttTopicFilter;
import com.hivemq.client.mqtt.mqtt5.Mqtt5AsyncClient;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5PublishResult;
import com.hivemq.client.mqtt.mqtt5.message.publish.puback.Mqtt5PubAckReasonCode;
import dev.axfleet.broker.BrokerAddress;
import dev.axfleet.broker.InvalidJobException;
import dev.axfleet.broker.Job;
import dev.axfleet.broker.AudioChunk;
import dev.axfleet.broker.JobDelta;
import dev.axfleet.broker.JobResult;
import dev.axfleet.broker.MqttClients;
import dev.axfleet.broker.Reply;
import dev.axfleet.broker.WireCodec;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** An MQTT 5 client for tests: publishes jobs and collects what arrives on subscribed topics. */
public final class TestMqttClient implements AutoCloseable {
    private final Mqtt5AsyncClient client;
    private final Map<MqttTopicFilter, BlockingQueue<Mqtt5Publish>> inboxes = new ConcurrentHashMap<>();

    private TestMqttClient(Mqtt5AsyncClient client) {
        this.client = client;
    }

    public static TestMqttClient connect(BrokerAddress address, String clientId) {
        Mqtt5AsyncClient c = MqttClients.builder(address, clientId).buildAsync();
        TestMqttClient t = new TestMqttClient(c);
        c.publishes(MqttGlobalPublishFilter.ALL, t::route);
        c.connectWith().cleanStart(true).send().join();
        return t;
    }

    private void route(Mqtt5Publish p) {
        inboxes.forEach((filter, q) -> {
            if (filter.matches(p.getTopic())) {
                q.add(p);
            }
        });
    }

    /** The job a publish carries, read as a worker reads it (MQTT 5 response topic and correlation data included). */
    public static Job job(Mqtt5Publish p) throws InvalidJobException {
        return WireCodec.decodeJob(p.getTopic().toString(), p.getPayloadAsBytes(), p.getResponseTopic().map(Object::toString).orElse(null),
                p.getCorrelationData().map(b -> {
                    byte[] out = new byte[b.remaining()];
                    b.duplicate().get(out);
                    return out;
                }).orElse(null));
    }

    public BlockingQueue<Mqtt5Publish> subscribe(String filter) {
        BlockingQueue<Mqtt5Publish> q = new LinkedBlockingQueue<>();
        inboxes.put(MqttTopicFilter.of(filter), q);
        client.subscribeWith().topicFilter(filter).qos(MqttQos.AT_LEAST_ONCE).send().join();
        return q;
    }

    public void publish(String topic, String json) {
        client.publishWith().topic(topic).qos(MqttQos.AT_LEAST_ONCE).payload(json.getBytes(StandardCharsets.UTF_8)).send().join();
    }

    /** Publishes a message built whole (user properties and all), QoS and all as it says. */
    public void publish(Mqtt5Publish p) {
        client.publish(p).join();
    }

    /** Publishes a retained message; an empty payload clears the topic's retained message. */
    public void publishRetained(String topic, byte[] payload) {
        client.publishWith().topic(topic).qos(MqttQos.AT_LEAST_ONCE).retain(true).payload(payload).send().join();
    }

    /**
     * Publishes as a careful MQTT 5 device does: again every 250 ms while the broker answers that nobody subscribes
     * (PUBACK reason 16, e.g. a restarted Mosquitto before the workers are back), for at most {@code limit}.
     */
    public void publishUntilSubscribed(String topic, String json, Duration limit) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (true) {
            var result = client.publishWith().topic(topic).qos(MqttQos.AT_LEAST_ONCE).payload(json.getBytes(StandardCharsets.UTF_8)).send().join();
            boolean taken = !(result instanceof Mqtt5PublishResult.Mqtt5Qos1Result q)
                    || q.getPubAck().getReasonCode() != Mqtt5PubAckReasonCode.NO_MATCHING_SUBSCRIBERS;
            if (taken) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("nobody subscribed to " + topic + " within " + limit);
            }
            Thread.sleep(250);
        }
    }

    /** Publishes with MQTT 5 request/response properties. */
    public void request(String topic, String json, String responseTopic, byte[] correlation) {
        client.publishWith().topic(topic).qos(MqttQos.AT_LEAST_ONCE).payload(json.getBytes(StandardCharsets.UTF_8))
                .responseTopic(responseTopic).correlationData(correlation).send().join();
    }

    /** Deltas and the result of one job, as they arrived. */
    public record Answer(List<JobDelta> deltas, JobResult result, List<Mqtt5Publish> raw, List<AudioChunk> audio) {
        public Answer(List<JobDelta> deltas, JobResult result, List<Mqtt5Publish> raw) {
            this(deltas, result, raw, List.of());
        }

        /** The streamed audio's bytes, in order. */
        public byte[] streamedAudio() {
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            audio.forEach(c -> out.writeBytes(c.audio()));
            return out.toByteArray();
        }

        public String streamedText() {
            StringBuilder sb = new StringBuilder();
            deltas.stream().filter(d -> !d.thinking()).forEach(d -> sb.append(d.text()));
            return sb.toString();
        }

        /** The model's thinking as it was streamed. */
        public String streamedThinking() {
            StringBuilder sb = new StringBuilder();
            deltas.stream().filter(JobDelta::thinking).forEach(d -> sb.append(d.text()));
            return sb.toString();
        }
    }

    /** Reads replies from {@code inbox} until a result arrives; fails after {@code timeout}. */
    public static Answer await(BlockingQueue<Mqtt5Publish> inbox, Duration timeout) throws InterruptedException {
        List<JobDelta> deltas = new ArrayList<>();
        List<AudioChunk> audio = new ArrayList<>();
        List<Mqtt5Publish> raw = new ArrayList<>();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            long left = deadline - System.nanoTime();
            Mqtt5Publish p = left > 0 ? inbox.poll(left, TimeUnit.NANOSECONDS) : null;
            if (p == null) {
                throw new AssertionError("no result within " + timeout + "; deltas so far: " + deltas.size());
            }
            raw.add(p);
            Reply r = WireCodec.decodeReply(p.getPayloadAsBytes());
            if (r instanceof JobDelta d) {
                deltas.add(d);
            } else if (r instanceof AudioChunk c) {
                audio.add(c);
            } else {
                return new Answer(deltas, (JobResult) r, raw, audio);
            }
        }
    }

    @Override
    public void close() {
        client.disconnect().join();
    }
}
