package dev.axfleet.gateway;

import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt5.Mqtt5AsyncClient;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5PublishResult;
import com.hivemq.client.mqtt.mqtt5.message.publish.puback.Mqtt5PubAckReasonCode;
import dev.axfleet.broker.BrokerAddress;
import dev.axfleet.broker.Job;
import dev.axfleet.broker.MqttClients;
import dev.axfleet.broker.Reply;
import dev.axfleet.broker.TaskParams;
import dev.axfleet.broker.CardCodec;
import dev.axfleet.broker.CardRef;
import dev.axfleet.broker.Command;
import dev.axfleet.broker.Topics;
import dev.axfleet.broker.WireCodec;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gateway's side of the bus. Each HTTP request becomes a job on the very topic a device would publish
 * to; its deltas and result come back on this gateway's reply topics and are routed to the waiting request.
 *
 * <p>The session outlives short broker outages ({@code sessionExpiry}), so replies published meanwhile are
 * delivered when the connection returns; subscriptions are made again on every connection, in case the
 * broker lost the session. When the broker stays away longer than {@code brokerGrace}, waiting callers are
 * answered 503 with Retry-After instead of hanging, and their jobs are cancelled once the broker is back
 * (a retry by the caller must not run next to the original).
 */
public final class JobClient implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(JobClient.class);

    private final Mqtt5AsyncClient client;
    private final String gatewayId;
    private final ModelRegistry registry;
    private final Clock clock;
    private final Map<String, Submission> waiting = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> pending = new ConcurrentHashMap<>();
    private final Map<String, String> orphans = new ConcurrentHashMap<>();
    private final Duration sessionExpiry;
    private final Duration brokerGrace;
    private final CompletableFuture<Void> firstSubscription = new CompletableFuture<>();
    private volatile boolean accepting = true;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "broker-grace");
        t.setDaemon(true);
        return t;
    });

    public JobClient(BrokerAddress broker, String gatewayId, ModelRegistry registry, Clock clock, Duration sessionExpiry,
                     Duration brokerGrace) {
        this.gatewayId = gatewayId;
        this.registry = registry;
        this.clock = clock;
        this.sessionExpiry = sessionExpiry;
        this.brokerGrace = brokerGrace;
        this.client = MqttClients.builder(broker, "axfleet-gateway-" + gatewayId)
                .addConnectedListener(ctx -> onConnected(broker))
                .addDisconnectedListener(ctx -> onDisconnected(broker, ctx.getCause().getMessage()))
                .buildAsync();
    }

    /** Connects; completes when the subscriptions to replies, worker states and card health hold. */
    public CompletableFuture<Void> connect() {
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
        orphans.forEach((id, model) -> {
            log.info("job={} cancelled: its caller was answered 503 while the broker was away", id);
            publishCancel(model, id).thenRun(() -> orphans.remove(id));
        });
    }

    private void onDisconnected(BrokerAddress broker, String cause) {
        log.warn("disconnected from {}: {}", broker, cause);
        try {
            timer.schedule(this::answerWaitersIfStillAway, brokerGrace.toMillis(), TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            // The gateway is closing; nobody is waiting any more.
        }
    }

    private void answerWaitersIfStillAway() {
        if (connected()) {
            return;
        }
        for (Submission s : waiting.values()) {
            if (orphans.putIfAbsent(s.id(), s.model()) == null) {
                s.deliver(Submission.BROKER_LOST);
            }
        }
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
    public Submission submit(String model, TaskParams params, boolean stream, Duration timeout) {
        String id = WireCodec.newJobId();
        Instant now = clock.instant();
        String replyTo = Topics.reply(gatewayId, id);
        Job job = new Job(id, model, params, replyTo, id.getBytes(StandardCharsets.UTF_8), now, now.plus(timeout), stream);
        Submission s = new Submission(id, model, this);
        waiting.put(id, s);
        pending.computeIfAbsent(model, m -> new AtomicInteger()).incrementAndGet();
        if (params.task().isImage()) {
            // Image jobs report their steps on their status topic, for AUTOMATIC1111's /progress.
            s.watchProgress();
            client.subscribeWith().topicFilter(Topics.status(model, id)).qos(MqttQos.AT_MOST_ONCE).send();
        }
        publish(job, s, clock.instant().plus(brokerGrace));
        return s;
    }

    /**
     * Publishes the job; a broker that says no one subscribes to the model's jobs (PUBACK reason 16) has dropped it,
     * so it is published again until {@code retryUntil}, then the caller is answered 503. Mosquitto 2.0.11 answers
     * so after a restart until the workers have subscribed again (it restores their sessions but not their shared
     * subscriptions), and whenever no worker for the model has ever connected.
     */
    private void publish(Job job, Submission s, Instant retryUntil) {
        client.publishWith()
                .topic(Topics.jobs(job.model()))
                .qos(MqttQos.AT_LEAST_ONCE)
                .responseTopic(job.replyTo())
                .correlationData(job.correlation())
                .payload(WireCodec.encodeJob(job))
                .send()
                .whenComplete((r, e) -> {
                    if (e != null) {
                        log.warn("job={} could not be published: {}", job.id(), e.toString());
                        s.deliver(Submission.UNDELIVERED);
                    } else if (r instanceof Mqtt5PublishResult.Mqtt5Qos1Result q
                            && q.getPubAck().getReasonCode() == Mqtt5PubAckReasonCode.NO_MATCHING_SUBSCRIBERS
                            && waiting.containsKey(job.id())) {
                        if (clock.instant().isBefore(retryUntil)) {
                            try {
                                timer.schedule(() -> publish(job, s, retryUntil), 250, TimeUnit.MILLISECONDS);
                            } catch (RejectedExecutionException stopping) {
                                s.deliver(Submission.STOPPING);
                            }
                        } else {
                            log.warn("job={} not queued: no worker subscribes to {} jobs", job.id(), job.model());
                            s.deliver(Submission.NO_WORKER);
                        }
                    }
                });
    }

    /** Publishes a control request for a card (the monitor of its host acts on it); completes when the broker has it. */
    CompletableFuture<?> control(CardRef card, Command command) {
        return client.publishWith().topic(Topics.cardControl(card)).qos(MqttQos.AT_LEAST_ONCE).payload(CardCodec.encodeCommand(command))
                .send();
    }

    /** Asks the model's workers to drop the job, queued or running, and forgets it here. */
    void cancel(Submission s) {
        interrupt(s);
        finished(s);
    }

    /** Asks the model's workers to stop the job; its caller still waits for the result saying it was cancelled. */
    void interrupt(Submission s) {
        publishCancel(s.model(), s.id());
    }

    private CompletableFuture<?> publishCancel(String model, String id) {
        return client.publishWith().topic(Topics.cancel(model)).qos(MqttQos.AT_LEAST_ONCE).payload(WireCodec.encodeCancel(id)).send();
    }

    List<Submission> imageJobs() {
        return waiting.values().stream().filter(Submission::watchesProgress).toList();
    }

    void finished(Submission s) {
        if (waiting.remove(s.id()) != null) {
            pending.get(s.model()).decrementAndGet();
            if (s.watchesProgress()) {
                client.unsubscribeWith().topicFilter(Topics.status(s.model(), s.id())).send();
            }
        }
    }

    private void onPublish(Mqtt5Publish p) {
        String topic = p.getTopic().toString();
        try {
            Optional<String> statusOf = Topics.jobOfStatusTopic(topic);
            if (statusOf.isPresent()) {
                Submission s = waiting.get(statusOf.get());
                if (s != null) {
                    s.progress(WireCodec.decodeStatus(p.getPayloadAsBytes()));
                }
                return;
            }
            if (Topics.isWorkerState(topic)) {
                if (p.getPayloadAsBytes().length > 0) {
                    registry.update(WireCodec.decodeWorkerState(p.getPayloadAsBytes()));
                }
                return;
            }
            if (Topics.isCard(topic)) {
                if (p.getPayloadAsBytes().length > 0) {
                    registry.updateCard(CardCodec.decodeHealth(p.getPayloadAsBytes()));
                }
                return;
            }
            Reply r = WireCodec.decodeReply(p.getPayloadAsBytes());
            Submission s = waiting.get(r.id());
            if (s != null) {
                s.deliver(r);
            }
        } catch (RuntimeException e) {
            log.warn("unreadable message on {}: {}", topic, e.toString());
        }
    }

    /** From now on {@link #accepting()} is false: the gateway is stopping and takes no new jobs. */
    void stopAccepting() {
        accepting = false;
    }

    boolean accepting() {
        return accepting;
    }

    /**
     * Answers every caller still waiting with {@link Submission#STOPPING} and cancels its job (the caller loses its
     * connection with this process, so the job is work for nobody); returns how many there were.
     */
    int cancelWaiting() {
        accepting = false;
        List<Submission> left = List.copyOf(waiting.values());
        CompletableFuture<?>[] cancels = left.stream()
                .map(s -> publishCancel(s.model(), s.id()))
                .toArray(CompletableFuture[]::new);
        left.forEach(s -> s.deliver(Submission.STOPPING));
        if (!left.isEmpty()) {
            try {
                CompletableFuture.allOf(cancels).get(2, TimeUnit.SECONDS);
                log.info("stopping: cancelled {} job(s) whose callers were still waiting", left.size());
            } catch (Exception e) {
                log.warn("stopping: cancelling {} job(s) of callers still waiting: {}", left.size(), e.toString());
            }
        }
        return left.size();
    }

    @Override
    public void close() {
        timer.shutdownNow();
        try {
            client.disconnect().get();
        } catch (Exception e) {
            log.debug("disconnect: {}", e.toString());
        }
    }
}
