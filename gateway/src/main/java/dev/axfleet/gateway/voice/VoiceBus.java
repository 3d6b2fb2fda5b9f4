package dev.axfleet.gateway.voice;

import com.google.gson.JsonObject;
import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt5.Mqtt5AsyncClient;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import dev.axfleet.broker.BrokerAddress;
import dev.axfleet.broker.MqttClients;
import dev.axfleet.broker.Topics;
import dev.axfleet.broker.WireCodec;
import dev.axfleet.broker.voice.VoiceCodec;
import dev.axfleet.gateway.ApiException;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Voice turns over MQTT: a device publishes a request on {@code axfleet/v1/voice} and its events come back on its reply
 * topic, the same JSON as the HTTP route's lines (docs/protocol.md "Voice turns"). The gateways take requests through a
 * shared subscription, so each is run by one of them, on a connection of its own (the job connection's subscriptions and
 * ordering stay as they are). Turns run on a bounded pool; one more than it holds is answered {@code busy}.
 */
public final class VoiceBus implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(VoiceBus.class);
    /** Turns run at once; each holds a thread while its three jobs run (the card runs one job of a model at a time anyway). */
    static final int TURNS = 8;

    private final Mqtt5AsyncClient client;
    private final VoiceTurns turns;
    private final AtomicInteger threads = new AtomicInteger();
    private final ThreadPoolExecutor pool = new ThreadPoolExecutor(TURNS, TURNS, 60, TimeUnit.SECONDS, new ArrayBlockingQueue<>(TURNS), r -> {
        Thread t = new Thread(r, "voice-mqtt-" + threads.incrementAndGet());
        t.setDaemon(true);
        return t;
    });

    public VoiceBus(BrokerAddress broker, String gatewayId, VoiceTurns turns) {
        this.turns = turns;
        pool.allowCoreThreadTimeOut(true);
        this.client = MqttClients.builder(broker, "axfleet-gateway-" + gatewayId + "-voice")
                .addConnectedListener(ctx -> subscribe())
                .buildAsync();
    }

    public void start() {
        client.publishes(MqttGlobalPublishFilter.ALL, this::onPublish);
        client.connectWith().cleanStart(true).send();
    }

    private void subscribe() {
        client.subscribeWith().topicFilter(Topics.voiceShared()).qos(MqttQos.AT_LEAST_ONCE).send().whenComplete((ack, e) -> {
            if (e != null) {
                log.warn("voice turns over MQTT: subscribing to {} failed: {}", Topics.voiceShared(), e.toString());
            } else if (ack.getReasonCodes().stream().anyMatch(c -> c.isError())) {
                log.warn("voice turns over MQTT: the broker refused {}: {} (is the gateway's ACL current?)", Topics.voiceShared(), ack.getReasonCodes());
            } else {
                log.info("voice turns over MQTT on {}", Topics.voice());
            }
        });
    }

    private void onPublish(Mqtt5Publish p) {
        if (!p.getTopic().toString().equals(Topics.voice())) {
            return;
        }
        long heardAt = System.nanoTime();
        byte[] payload = p.getPayloadAsBytes();
        String responseTopic = p.getResponseTopic().map(Object::toString).orElse(null);
        byte[] correlation = p.getCorrelationData().map(VoiceBus::bytes).orElse(null);
        VoiceCodec.Request request;
        try {
            request = VoiceCodec.decodeRequest(payload, responseTopic, correlation, WireCodec::newJobId);
        } catch (VoiceCodec.Refused e) {
            log.info("voice turn={} refused: {}: {}", e.id(), e.field(), e.getMessage());
            publish(e.replyTo(), correlation, VoiceCodec.result(e.id(), VoiceCodec.Outcome.ERROR, "-", null, null, 0, 0, Map.of(),
                    "invalid_job", e.field() + ": " + e.getMessage(), e.field()));
            return;
        }
        try {
            pool.execute(() -> run(request, heardAt));
        } catch (RejectedExecutionException e) {
            log.warn("voice turn={} refused: {} turns are running and {} waiting", request.id(), TURNS, TURNS);
            publish(request.replyTo(), correlation, VoiceCodec.result(request.id(), VoiceCodec.Outcome.ERROR, request.params().conversation(),
                    null, null, request.params().sampleRate(), 0, Map.of(), "busy", "the gateway runs " + TURNS + " voice turns already; try again", null));
        }
    }

    private void run(VoiceCodec.Request r, long heardAt) {
        if (r.expiresAt() != null && Instant.now().isAfter(r.expiresAt())) {
            publish(r.replyTo(), r.correlation(), VoiceCodec.result(r.id(), VoiceCodec.Outcome.EXPIRED, r.params().conversation(), null, null,
                    r.params().sampleRate(), 0, Map.of(), "expired", "the turn's expires_at passed before it started", null));
            return;
        }
        try {
            turns.run(r.id(), r.params(), heardAt, event -> publish(r.replyTo(), r.correlation(), event));
        } catch (ApiException e) {
            publish(r.replyTo(), r.correlation(), VoiceCodec.result(r.id(), VoiceCodec.Outcome.ERROR, r.params().conversation(), null, null,
                    r.params().sampleRate(), 0, Map.of(), e.code(), e.getMessage(), e.param()));
        } catch (RuntimeException e) {
            log.warn("voice turn={}: {}", r.id(), e.toString(), e);
            publish(r.replyTo(), r.correlation(), VoiceCodec.result(r.id(), VoiceCodec.Outcome.ERROR, r.params().conversation(), null, null,
                    r.params().sampleRate(), 0, Map.of(), "internal_error", e.toString(), null));
        }
    }

    /** Events go out at QoS 1, in order (the client keeps the order of one QoS level). */
    private void publish(String topic, byte[] correlation, JsonObject event) {
        var b = client.publishWith().topic(topic).qos(MqttQos.AT_LEAST_ONCE).payload(VoiceCodec.bytes(event));
        (correlation == null ? b : b.correlationData(correlation)).send().whenComplete((ok, e) -> {
            if (e != null) {
                log.info("voice: publishing to {} failed: {}", topic, e.toString());
            }
        });
    }

    private static byte[] bytes(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }

    @Override
    public void close() {
        pool.shutdownNow();
        try {
            client.disconnect().get(2, TimeUnit.SECONDS);
        } catch (Exception e) {
            log.debug("voice: disconnect: {}", e.toString());
        }
    }
}
