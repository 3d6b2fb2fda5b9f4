package dev.axfleet.worker;

import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt5.Mqtt5AsyncClient;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import dev.axfleet.broker.CardCodec;
import dev.axfleet.broker.Command;
import dev.axfleet.broker.MqttClients;
import dev.axfleet.broker.Topics;
import dev.axfleet.broker.WireCodec;
import dev.axfleet.broker.residency.ResidencyCodec;
import dev.axfleet.broker.residency.ResidencyRequest;
import dev.axfleet.worker.priority.Intake;
import dev.axfleet.worker.priority.Mates;
import dev.axfleet.worker.priority.Pace;
import dev.axfleet.worker.residency.CardLock;
import dev.axfleet.worker.residency.CardMates;
import dev.axfleet.worker.residency.Room;
import dev.axfleet.worker.runtime.ModelRuntime;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A resident worker for one model: its {@link Intake} (one connection per priority, on the model's shared subscriptions),
 * its own connection, where the jobs it runs are handed to it, and one {@link JobLoop} thread owning the runtime.
 *
 * <p>Its own connection is what makes running safe: a persistent session (the broker keeps the job while the worker is
 * away), Receive Maximum 1 (one job at a time), manual acknowledgement (sent after the result is published), and the
 * message callback registered before connecting, so jobs redelivered right at connect reach the loop. The intake
 * decides which job comes next and where (docs/decisions.md, "Jobs that matter more").
 */
public final class Worker implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Worker.class);

    private final WorkerConfig config;
    private final ModelRuntime runtime;
    private final Mqtt5AsyncClient client;
    private final Mqtt5AsyncClient control;
    private final Cancellations cancellations;
    private final CardGate card;
    private final AnsweredJobs answered;
    private final CardMates mates;
    private final WorkerStatus status;
    private final JobLoop loop;
    private final Thread loopThread;
    private final Mates modelMates;
    private final Intake intake;
    private final java.util.concurrent.atomic.AtomicBoolean intakeStarted = new java.util.concurrent.atomic.AtomicBoolean();
    private final ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "worker-status");
        t.setDaemon(true);
        return t;
    });

    public Worker(WorkerConfig config, ModelRuntime runtime) {
        this.config = config;
        this.runtime = runtime;
        Clock clock = Clock.systemUTC();
        this.client = MqttClients.builder(config.broker(), "axfleet-worker-" + config.workerId())
                .addConnectedListener(ctx -> onConnected())
                .addDisconnectedListener(ctx -> onDisconnected())
                .buildAsync();
        // Cancels travel on a connection of their own: a broker may hold back every message, QoS 0 included,
        // behind the job in flight on the Receive-Maximum-1 connection (HiveMQ does), and a cancel must
        // reach the job while it runs.
        // The card's health and requests for this worker travel there too, for the same reason.
        this.control = MqttClients.builder(config.broker(), "axfleet-worker-" + config.workerId() + "-control")
                .addConnectedListener(ctx -> control().subscribeWith()
                        .addSubscription().topicFilter(Topics.cancel(config.model())).qos(MqttQos.AT_LEAST_ONCE).applySubscription()
                        .addSubscription().topicFilter(Topics.card(config.card())).qos(MqttQos.AT_LEAST_ONCE).applySubscription()
                        .addSubscription().topicFilter(Topics.workerControl(config.model(), config.workerId())).qos(MqttQos.AT_LEAST_ONCE)
                        .applySubscription()
                        .addSubscription().topicFilter(Topics.answered(config.model())).qos(MqttQos.AT_LEAST_ONCE).noLocal(true)
                        .applySubscription()
                        // The other models on this card: what they hold, whether idle or pinned (whom to unload for room).
                        .addSubscription().topicFilter(Topics.workerStates()).qos(MqttQos.AT_LEAST_ONCE).applySubscription()
                        .send())
                .buildAsync();
        this.card = new CardGate(config.card(), config.cardStale(), clock);
        this.cancellations = new Cancellations(clock, Duration.ofHours(1), 10_000);
        this.answered = new AnsweredJobs(config.stateDir().resolve("answered-jobs.txt"), 10_000, AnsweredJobs.REPLAY_WINDOW, config.workerId());
        // Each answer goes to the other workers of the model before its job is acknowledged: a job this worker
        // answered but could not acknowledge may be given to one of them (AnsweredJobs, rule 2).
        answered.shareWith(note -> {
            try {
                control.publishWith().topic(Topics.answered(config.model())).qos(MqttQos.AT_LEAST_ONCE)
                        .payload(AnsweredJobs.encodeNote(note)).send().get(2, TimeUnit.SECONDS);
            } catch (Exception e) {
                log.warn("job={} answer not shared with the model's other workers: {}", note.id(), e.toString());
            }
        });
        this.status = new WorkerStatus(client, config, runtime, clock);
        this.mates = new CardMates(config.card(), config.workerId());
        Room room = new Room(config.model(), config.workerId(), config.residency(), config.cmmMiB(), new CardLock(config.residency().cardLock()),
                mates, new Room.Card() {
                    @Override
                    public java.util.Optional<dev.axfleet.broker.CardHealth> fresh() {
                        return card.health();
                    }

                    @Override
                    public void await(long millis) throws InterruptedException {
                        card.await(millis);
                    }
                }, (victim, reason) -> control.publishWith().topic(Topics.workerControl(victim.model(), victim.worker()))
                        .qos(MqttQos.AT_LEAST_ONCE).payload(ResidencyCodec.encodeRequest(new ResidencyRequest(ResidencyRequest.Action.UNLOAD,
                                null, null, null, config.workerId(), reason, clock.instant(), null))).send(),
                clock, config.cardStale());
        Pace pace = new Pace();
        this.loop = new JobLoop(config, runtime, new Replies(client), answered, cancellations, status, card, clock, room, pace);
        this.loopThread = new Thread(loop, "jobs-" + config.model());
        this.modelMates = new Mates(config.model(), config.workerId());
        this.intake = new Intake(config.model(), config.workerId(), config.broker(), config.sessionExpiry(), config.stateDir(), new Intake.Host() {
            @Override
            public boolean loopFree() {
                return loop.free();
            }

            @Override
            public java.util.Optional<Intake.Running> running() {
                return loop.running();
            }

            @Override
            public java.util.Optional<String> holdReason() {
                return card.holdReason();
            }

            @Override
            public boolean residentHere() {
                return loop.resident();
            }

            @Override
            public boolean cancelled(String jobId) {
                return cancellations.contains(jobId);
            }

            @Override
            public boolean answer(Mqtt5Publish p, dev.axfleet.broker.Job job, dev.axfleet.broker.JobResult result, Runnable ack) {
                return loop.answerEarly(p, job, result, ack);
            }

            @Override
            public void queued(int jobs) {
                status.queued(jobs);
            }
        }, pace, modelMates, clock, client, AnsweredJobs::digest);
        loop.onChange(intake::taken);
    }

    private Mqtt5AsyncClient control() {
        return control;
    }

    public void start() {
        control.publishes(MqttGlobalPublishFilter.ALL, this::onControl);
        control.connectWith().cleanStart(true).send();
        client.publishes(MqttGlobalPublishFilter.ALL, loop::offer, true);
        client.connectWith()
                .cleanStart(false)
                .sessionExpiryInterval(config.sessionExpiry().toSeconds())
                .restrictions().receiveMaximum(1).applyRestrictions()
                .willPublish()
                .topic(Topics.workerState(config.model(), config.workerId()))
                .qos(MqttQos.AT_LEAST_ONCE)
                .retain(true)
                .payload(WorkerStatus.offline(config))
                .applyWillPublish()
                .send()
                .whenComplete((ack, e) -> {
                    if (e != null) {
                        log.warn("broker {} not reachable yet ({}); retrying in the background", config.broker(), e.getMessage());
                    }
                });
        ticker.scheduleWithFixedDelay(status::flush, 1, 1, TimeUnit.SECONDS);
        loopThread.start();
        log.info("worker {} for model {} started ({} runtime)", config.workerId(), config.model(), runtime.kind());
    }

    /**
     * On every (re)connection: make sure the handoff subscription exists and say where the worker stands. This session
     * took jobs from the model's shared subscription before the intake did: it leaves it (the jobs it still holds come
     * all the same).
     */
    private void onConnected() {
        log.info("connected to {}", config.broker());
        client.subscribeWith().topicFilter(Topics.handoff(config.model(), config.workerId())).qos(MqttQos.AT_LEAST_ONCE).send()
                .thenRun(() -> {
                    // Jobs are taken once this worker's own loop can be handed them.
                    if (intakeStarted.compareAndSet(false, true)) {
                        intake.start();
                    }
                });
        client.unsubscribeWith().topicFilter(Topics.jobsShared(config.model())).send();
        status.publish();
    }

    private void onDisconnected() {
        loop.connectionLost();
    }

    private void onControl(Mqtt5Publish p) {
        String topic = p.getTopic().toString();
        if (topic.equals(Topics.card(config.card()))) {
            try {
                card.update(CardCodec.decodeHealth(p.getPayloadAsBytes()));
            } catch (RuntimeException e) {
                log.warn("unreadable card health on {}: {}", topic, e.toString());
            }
        } else if (Topics.isWorkerState(topic)) {
            if (p.getPayloadAsBytes().length == 0) {
                return;
            }
            try {
                dev.axfleet.broker.WorkerState state = WireCodec.decodeWorkerState(p.getPayloadAsBytes());
                mates.update(state);
                modelMates.update(state);
            } catch (RuntimeException e) {
                log.debug("unreadable worker state on {}: {}", topic, e.toString());
            }
        } else if (topic.equals(Topics.workerControl(config.model(), config.workerId()))) {
            java.util.Optional<ResidencyRequest> residency = ResidencyCodec.decodeRequest(p.getPayloadAsBytes());
            if (residency.isPresent()) {
                loop.request(residency.get());
                return;
            }
            CardCodec.decodeCommand(p.getPayloadAsBytes())
                    .filter(c -> Command.RESTART_RUNTIME.equals(c.action()))
                    .ifPresent(c -> {
                        log.warn("runtime restart requested by {}: {}", c.by(), c.reason());
                        loop.requestRestart(c.reason() == null ? "requested by " + c.by() : c.reason());
                    });
        } else if (topic.equals(Topics.answered(config.model()))) {
            try {
                answered.learn(AnsweredJobs.decodeNote(p.getPayloadAsBytes()));
            } catch (RuntimeException e) {
                log.warn("unreadable answer note on {}: {}", topic, e.toString());
            }
        } else {
            WireCodec.decodeCancel(p.getPayloadAsBytes()).ifPresent(id -> {
                log.info("job={} cancel requested", id);
                cancellations.add(id);
            });
        }
    }

    /** Stops taking jobs, leaves a running job with the broker, says "offline", stops the runtime gracefully. */
    @Override
    public void close() {
        log.info("worker {} stopping", config.workerId());
        intake.close();
        status.stopping();
        loop.stop();
        loopThread.interrupt();
        try {
            loopThread.join(Duration.ofSeconds(30).toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        ticker.shutdownNow();
        runtime.close();
        answered.close();
        try {
            client.publishWith().topic(Topics.workerState(config.model(), config.workerId())).qos(MqttQos.AT_LEAST_ONCE)
                    .retain(true).payload(WorkerStatus.offline(config)).send().get(2, TimeUnit.SECONDS);
            client.disconnect().get(2, TimeUnit.SECONDS);
            control.disconnect().get(2, TimeUnit.SECONDS);
        } catch (Exception e) {
            log.debug("disconnect: {}", e.toString());
        }
    }
}
