package dev.axfleet.gateway;

import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt5.Mqtt5AsyncClient;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import dev.axfleet.broker.BrokerAddress;
import dev.axfleet.broker.ChatParams;
import dev.axfleet.broker.Job;
import dev.axfleet.broker.MqttClients;
import dev.axfleet.broker.Reply;
import dev.axfleet.broker.CardCodec;
import dev.axfleet.broker.CardRef;
import dev.axfleet.broker.Command;
import dev.axfleet.broker.Topics;
import dev.axfleet.broker.WireCodec;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gateway's side of the bus. Each HTTP request becomes a job on the very topic a device would publish
 * to; its deltas and result come back on this gateway's reply topics and are routed to the waiting request.
 */
public final class JobClient implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(JobClient.class);

    private final Mqtt5AsyncClient client;
    private final String gatewayId;
    private final ModelRegistry registry;
    private final Clock clock;
    private final Map<String, BlockingQueue<Reply>> waiting = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> pending = new ConcurrentHashMap<>();

    public JobClient(BrokerAddress broker, String gatewayId, ModelRegistry registry, Clock clock) {
        this.gatewayId = gatewayId;
        this.registry = registry;
        this.clock = clock;
        this.client = MqttClients.builder(broker, "axfleet-gateway-" + gatewayId)
                .addConnectedListener(ctx -> log.info("connected to {}", broker))
                .addDisconnectedListener(ctx -> log.warn("disconnected from {}: {}", broker, ctx.getCause().getMessage()))
                .buildAsync();
    }

    /** Connects and subscribes to replies and worker states; completes when both subscriptions hold. */
    public CompletableFuture<Void> connect() {
        client.publishes(MqttGlobalPublishFilter.ALL, this::onPublish);
        return client.connectWith().cleanStart(true).send()
                .thenCompose(ack -> client.subscribeWith().topicFilter(Topics.replies(gatewayId)).qos(MqttQos.AT_LEAST_ONCE).send())
                .thenCompose(ack -> client.subscribeWith().topicFilter(Topics.workerStates()).qos(MqttQos.AT_LEAST_ONCE).send())
                .thenCompose(ack -> client.subscribeWith().topicFilter(Topics.cards()).qos(MqttQos.AT_LEAST_ONCE).send())
                .thenApply(ack -> null);
    }

    public boolean connected() {
        return client.getState().isConnected();
    }

    /** Jobs of this gateway published for {@code model} and not yet answered. */
    public int pending(String model) {
        AtomicInteger n = pending.get(model);
        return n == null ? 0 : n.get();
    }

    public Map<String, AtomicInteger> pendingByModel() {
        return pending;
    }

    /**
     * Publishes a job that expires after {@code timeout}; its replies arrive in the returned submission.
     */
    public Submission submit(String model, ChatParams params, boolean stream, Duration timeout) {
        String id = WireCodec.newJobId();
        Instant now = clock.instant();
        String replyTo = Topics.reply(gatewayId, id);
        Job job = new Job(id, model, params, replyTo, id.getBytes(StandardCharsets.UTF_8), now, now.plus(timeout), stream);
        BlockingQueue<Reply> replies = new LinkedBlockingQueue<>();
        waiting.put(id, replies);
        pending.computeIfAbsent(model, m -> new AtomicInteger()).incrementAndGet();
        Submission s = new Submission(id, model, replies, this);
        client.publishWith()
                .topic(Topics.jobs(model))
                .qos(MqttQos.AT_LEAST_ONCE)
                .responseTopic(replyTo)
                .correlationData(job.correlation())
                .payload(WireCodec.encodeJob(job))
                .send()
                .whenComplete((r, e) -> {
                    if (e != null) {
                        log.warn("job={} could not be published: {}", id, e.toString());
                        replies.add(Submission.UNDELIVERED);
                    }
                });
        return s;
    }

    /** Publishes a control request for a card (the monitor of its host acts on it); completes when the broker has it. */
    java.util.concurrent.CompletableFuture<?> control(CardRef card, Command command) {
        return client.publishWith().topic(Topics.cardControl(card)).qos(MqttQos.AT_LEAST_ONCE).payload(CardCodec.encodeCommand(command))
                .send();
    }

    /** Asks the model's workers to drop the job, queued or running, and forgets it here. */
    void cancel(Submission s) {
        client.publishWith().topic(Topics.cancel(s.model())).qos(MqttQos.AT_LEAST_ONCE).payload(WireCodec.encodeCancel(s.id())).send();
        finished(s);
    }

    void finished(Submission s) {
        if (waiting.remove(s.id()) != null) {
            pending.get(s.model()).decrementAndGet();
        }
    }

    private void onPublish(Mqtt5Publish p) {
        String topic = p.getTopic().toString();
        try {
            if (topic.startsWith(Topics.ROOT + "/workers/")) {
                if (p.getPayloadAsBytes().length > 0) {
                    registry.update(WireCodec.decodeWorkerState(p.getPayloadAsBytes()));
                }
                return;
            }
            if (topic.startsWith(Topics.ROOT + "/cards/")) {
                if (p.getPayloadAsBytes().length > 0) {
                    registry.updateCard(CardCodec.decodeHealth(p.getPayloadAsBytes()));
                }
                return;
            }
            Reply r = WireCodec.decodeReply(p.getPayloadAsBytes());
            BlockingQueue<Reply> q = waiting.get(r.id());
            if (q != null) {
                q.add(r);
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
