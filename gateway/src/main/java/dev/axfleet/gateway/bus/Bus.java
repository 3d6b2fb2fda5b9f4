package dev.axfleet.gateway.bus;

import dev.axfleet.broker.BrokerAddress;
import dev.axfleet.broker.CardCodec;
import dev.axfleet.broker.CardHealth;
import dev.axfleet.broker.CardRef;
import dev.axfleet.broker.Command;
import dev.axfleet.broker.ErrorCode;
import dev.axfleet.broker.Job;
import dev.axfleet.broker.Priority;
import dev.axfleet.broker.JobStatus;
import dev.axfleet.broker.Reply;
import dev.axfleet.broker.TaskParams;
import dev.axfleet.broker.Topics;
import dev.axfleet.broker.WireCodec;
import dev.axfleet.broker.WorkerState;
import dev.axfleet.broker.residency.KeepAlive;
import dev.axfleet.broker.residency.ResidencyCodec;
import dev.axfleet.broker.residency.ResidencyReply;
import dev.axfleet.broker.residency.ResidencyRequest;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gateway's side of the bus. Each HTTP request becomes a job on the very topic a device would publish to
 * ({@link JobPublisher}); its deltas and result come back on this gateway's reply topics and are routed to the waiting
 * request ({@link Submissions}); callers are let go when the broker stays away ({@link OrphanJobs}); image jobs' steps
 * are followed ({@link ProgressWatch}); workers' states and cards' health feed whoever keeps them.
 */
public final class Bus implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Bus.class);
    static final String STOPPING_MESSAGE = "the gateway stopped before the job was answered; it was cancelled";

    /** Who keeps what workers and monitors announce (the model registry). */
    public interface Announcements {
        void workerState(WorkerState s);

        void card(CardHealth h);
    }

    private final BusConnection connection;
    private final Submissions submissions;
    private final JobPublisher publisher;
    private final OrphanJobs orphans;
    private final ProgressWatch progress;
    private final Clock clock;
    private final Duration brokerGrace;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "broker-grace");
        t.setDaemon(true);
        return t;
    });
    private volatile boolean accepting = true;
    /** Load and unload requests of this gateway still waiting for their worker's answer, by request id. */
    private final Map<String, CompletableFuture<ResidencyReply>> residency = new java.util.concurrent.ConcurrentHashMap<>();

    public Bus(BrokerAddress broker, String gatewayId, Clock clock, Duration sessionExpiry, Duration brokerGrace) {
        this.clock = clock;
        this.brokerGrace = brokerGrace;
        this.connection = new BusConnection(broker, gatewayId, sessionExpiry);
        this.submissions = new Submissions(connection, this::stopFollowing);
        this.progress = new ProgressWatch(connection, submissions);
        this.publisher = new JobPublisher(connection, submissions, timer, clock);
        this.orphans = new OrphanJobs(connection, submissions, timer, brokerGrace, connection::connected);
    }

    private void stopFollowing(Submission s) {
        progress.stop(s);
    }

    /** Connects; completes when the subscriptions to replies, worker states and card health hold. */
    public CompletableFuture<Void> connect(Announcements announcements) {
        return connection.connect(new BusConnection.Listener() {
            @Override
            public void reply(Reply r) {
                submissions.route(r);
            }

            @Override
            public void status(String jobId, JobStatus s) {
                progress.status(jobId, s);
            }

            @Override
            public void workerState(WorkerState s) {
                announcements.workerState(s);
            }

            @Override
            public void card(CardHealth h) {
                announcements.card(h);
            }

            @Override
            public void residency(ResidencyReply r) {
                CompletableFuture<ResidencyReply> f = r.id() == null ? null : residency.remove(r.id());
                if (f != null) {
                    f.complete(r);
                }
            }

            @Override
            public void connected() {
                orphans.connected();
            }

            @Override
            public void disconnected() {
                orphans.disconnected();
            }
        });
    }

    public boolean connected() {
        return connection.connected();
    }

    /** Jobs of this gateway published for {@code model} and not yet answered. */
    public int pending(String model) {
        return submissions.pending(model);
    }

    public Map<String, AtomicInteger> pendingByModel() {
        return submissions.pendingByModel();
    }

    /** Publishes a job that expires after {@code timeout}; its replies arrive in the returned submission. */
    public Submission submit(String model, TaskParams params, boolean stream, Duration timeout) {
        return submit(model, params, stream, timeout, null);
    }

    /** As {@link #submit(String, TaskParams, boolean, Duration)}, saying how long the model stays loaded after it (null: as it is). */
    public Submission submit(String model, TaskParams params, boolean stream, Duration timeout, KeepAlive keepAlive) {
        return submit(model, params, stream, timeout, keepAlive, Priority.NORMAL);
    }

    /** As {@link #submit(String, TaskParams, boolean, Duration, KeepAlive)}, on the topic of {@code priority}. */
    public Submission submit(String model, TaskParams params, boolean stream, Duration timeout, KeepAlive keepAlive, Priority priority) {
        String id = WireCodec.newJobId();
        Instant now = clock.instant();
        Job job = new Job(id, model, params, connection.replyTopic(id), id.getBytes(StandardCharsets.UTF_8), now, now.plus(timeout), stream,
                keepAlive, priority);
        Submission s = submissions.add(id, model, params.task());
        progress.follow(s);
        publisher.publish(job, s, clock.instant().plus(brokerGrace));
        return s;
    }

    /** This gateway's image jobs still waiting for their answer, with their steps (AUTOMATIC1111's /progress, /interrupt). */
    public List<Submission> imageJobs() {
        return progress.followedJobs();
    }

    /** Publishes a control request for a card (the monitor of its host acts on it); completes when the broker has it. */
    public CompletableFuture<?> control(CardRef card, Command command) {
        return connection.publish(Topics.cardControl(card), CardCodec.encodeCommand(command));
    }

    /**
     * Asks one worker to load or unload its model, on its control topic; completes with its answer, or exceptionally when
     * none came within {@code timeout} (the request expires then, so the worker does not act on it later).
     */
    public CompletableFuture<ResidencyReply> residency(WorkerState worker, ResidencyRequest.Action action, KeepAlive keepAlive, String by,
                                                       Duration timeout) {
        String id = WireCodec.newJobId();
        Instant now = clock.instant();
        ResidencyRequest r = new ResidencyRequest(action, id, connection.residencyReplyTopic(id), keepAlive, by, null, now, now.plus(timeout));
        CompletableFuture<ResidencyReply> answer = new CompletableFuture<>();
        residency.put(id, answer);
        connection.publish(Topics.workerControl(worker.model(), worker.worker()), ResidencyCodec.encodeRequest(r)).whenComplete((ok, e) -> {
            if (e != null) {
                answer.completeExceptionally(e);
            }
        });
        return answer.orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS).whenComplete((ok, e) -> residency.remove(id));
    }

    /** From now on {@link #accepting()} is false: the gateway is stopping and takes no new jobs. */
    public void stopAccepting() {
        accepting = false;
    }

    public boolean accepting() {
        return accepting;
    }

    /**
     * Answers every caller still waiting that the gateway stops, and cancels its job (the caller loses its connection
     * with this process, so the job is work for nobody); returns how many there were.
     */
    public int cancelWaiting() {
        accepting = false;
        List<CompletableFuture<?>> cancels = submissions.cancelAll(s -> Submissions.gatewayFailure(s, ErrorCode.GATEWAY_STOPPING, STOPPING_MESSAGE));
        if (!cancels.isEmpty()) {
            try {
                CompletableFuture.allOf(cancels.toArray(CompletableFuture[]::new)).get(2, TimeUnit.SECONDS);
                log.info("stopping: cancelled {} job(s) whose callers were still waiting", cancels.size());
            } catch (Exception e) {
                log.warn("stopping: cancelling {} job(s) of callers still waiting: {}", cancels.size(), e.toString());
            }
        }
        return cancels.size();
    }

    @Override
    public void close() {
        timer.shutdownNow();
        connection.close();
    }
}
