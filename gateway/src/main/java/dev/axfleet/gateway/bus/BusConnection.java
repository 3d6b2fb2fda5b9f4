package dev.axfleet.gateway.bus;

import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt5.Mqtt5AsyncClient;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5PublishResult;
import dev.axfleet.broker.BrokerAddress;
import dev.axfleet.broker.CardCodec;
import dev.axfleet.broker.CardHealth;
import dev.axfleet.broker.Job;
import dev.axfleet.broker.JobStatus;
import dev.axfleet.broker.MqttClients;
import dev.axfleet.broker.Reply;
import dev.axfleet.broker.Topics;
import dev.axfleet.broker.WireCodec;
import dev.axfleet.broker.WorkerState;
import dev.axfleet.broker.residency.ResidencyCodec;
import dev.axfleet.broker.residency.ResidencyReply;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gateway's MQTT connection: a persistent session that outlives short broker outages (replies published
 * meanwhile arrive when it returns), its subscriptions made again on every connection in case the broker lost the
 * session, and each arriving message handed to the one that reads it.
 */
final class BusConnection implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(BusConnection.class);

    /** Who reads what arrives, and who hears of the connection coming and going. */
    interface Listener {
        void reply(Reply r);

        void status(String jobId, JobStatus s);

        void workerState(WorkerState s);

        void card(CardHealth h);

        /** A worker's answer to a load or unload request of this gateway's. */
        void residency(ResidencyReply r);

        void connected();

        void disconnected();
    }

    private final Mqtt5AsyncClient client;
    private final String gatewayId;
    private final Duration sessionExpiry;
    private final CompletableFuture<Void> firstSubscription = new CompletableFuture<>();
    private volatile Listener listener;

    BusConnection(BrokerAddress broker, String gatewayId, Duration sessionExpiry) {
        this.gatewayId = gatewayId;
        this.sessionExpiry = sessionExpiry;
        this.client = MqttClients.builder(broker, "axfleet-gateway-" + gatewayId)
                .addConnectedListener(ctx -> onConnected(broker))
                .addDisconnectedListener(ctx -> {
                    log.warn("disconnected from {}: {}", broker, ctx.getCause().getMessage());
                    listener.disconnected();
                })
                .buildAsync();
    }

    /** Connects; completes when the subscriptions to replies, worker states and card health hold. */
    CompletableFuture<Void> connect(Listener listener) {
        this.listener = listener;
        client.publishes(MqttGlobalPublishFilter.ALL, this::onPublish);
        client.connectWith().cleanStart(false).sessionExpiryInterval(sessionExpiry.toSeconds()).send();
        return firstSubscription;
    }

    private void onConnected(BrokerAddress broker) {
        log.info("connected to {}", broker);
        client.subscribeWith()
                .addSubscription().topicFilter(Topics.replies(gatewayId)).qos(MqttQos.AT_LEAST_ONCE).applySubscription()
                .addSubscription().topicFilter(Topics.workerStates()).qos(MqttQos.AT_LEAST_ONCE).applySubscription()
                .addSubscription().topicFilter(Topics.cards()).qos(MqttQos.AT_LEAST_ONCE).applySubscription()
                .send()
                .whenComplete((ack, e) -> {
                    if (e != null) {
                        log.warn("subscribing failed: {}", e.toString());
                    } else {
                        firstSubscription.complete(null);
                    }
                });
        listener.connected();
    }

    boolean connected() {
        return client.getState().isConnected();
    }

    String replyTopic(String jobId) {
        return Topics.reply(gatewayId, jobId);
    }

    String residencyReplyTopic(String requestId) {
        return ResidencyCodec.replyTopic(gatewayId, requestId);
    }

    CompletableFuture<Mqtt5PublishResult> publishJob(Job job) {
        return client.publishWith()
                .topic(Topics.jobs(job.model(), job.priority()))
                .qos(MqttQos.AT_LEAST_ONCE)
                .responseTopic(job.replyTo())
                .correlationData(job.correlation())
                .payload(WireCodec.encodeJob(job))
                .send();
    }

    CompletableFuture<?> publishCancel(String model, String jobId) {
        return client.publishWith().topic(Topics.cancel(model)).qos(MqttQos.AT_LEAST_ONCE).payload(WireCodec.encodeCancel(jobId)).send();
    }

    CompletableFuture<?> publish(String topic, byte[] payload) {
        return client.publishWith().topic(topic).qos(MqttQos.AT_LEAST_ONCE).payload(payload).send();
    }

    void subscribe(String topic) {
        client.subscribeWith().topicFilter(topic).qos(MqttQos.AT_MOST_ONCE).send();
    }

    void unsubscribe(String topic) {
        client.unsubscribeWith().topicFilter(topic).send();
    }

    private void onPublish(Mqtt5Publish p) {
        String topic = p.getTopic().toString();
        byte[] payload = p.getPayloadAsBytes();
        try {
            Optional<String> statusOf = Topics.jobOfStatusTopic(topic);
            if (statusOf.isPresent()) {
                listener.status(statusOf.get(), WireCodec.decodeStatus(payload));
            } else if (Topics.isWorkerState(topic)) {
                if (payload.length > 0) {
                    listener.workerState(WireCodec.decodeWorkerState(payload));
                }
            } else if (Topics.isCard(topic)) {
                if (payload.length > 0) {
                    listener.card(CardCodec.decodeHealth(payload));
                }
            } else if (ResidencyCodec.isReplyTopic(topic)) {
                listener.residency(ResidencyCodec.decodeReply(payload));
            } else {
                listener.reply(WireCodec.decodeReply(payload));
            }
        } catch (RuntimeException e) {
            log.warn("unreadable message on {}: {}", topic, e.toString());
        }
    }

    @Override
    public void close() {
        try {
            client.disconnect().get();
        } catch (Exception e) {
            log.debug("disconnect: {}", e.toString());
        }
    }
}
