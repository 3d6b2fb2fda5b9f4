package dev.axfleet.worker.priority;

import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt5.Mqtt5AsyncClient;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5PublishResult;
import com.hivemq.client.mqtt.mqtt5.message.publish.puback.Mqtt5PubAckReasonCode;
import dev.axfleet.broker.BrokerAddress;
import dev.axfleet.broker.ErrorCode;
import dev.axfleet.broker.InvalidJobException;
import dev.axfleet.broker.Job;
import dev.axfleet.broker.JobError;
import dev.axfleet.broker.JobResult;
import dev.axfleet.broker.MqttClients;
import dev.axfleet.broker.Outcome;
import dev.axfleet.broker.Priority;
import dev.axfleet.broker.Task;
import dev.axfleet.broker.Topics;
import dev.axfleet.broker.WireCodec;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where a worker takes its jobs from: one connection per {@link Priority}, each with its own persistent session, Receive
 * Maximum 1 and the model's shared subscription for that priority, so the broker hands each connection one job at a time
 * and the worker always sees the next job of every priority. No job runs from here: a job is <em>handed off</em>
 * ({@link Handoff}) to the worker that runs it next — this one when it is free (highest priority first, in arrival
 * order within a priority), else a free worker of the model that has it loaded — or answered before it runs (cancelled,
 * expired, would not finish in time). Its intake acknowledgement follows the broker's acknowledgement of the handoff
 * (or of the answer), so at every moment the job is in a session of the broker; one handed off whose acknowledgement
 * was lost is recognised when the broker resends it (a record on disk, {@link Handed}) and acknowledged again, not run.
 */
public final class Intake implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Intake.class);
    /** How long a handoff may take before it counts as failed (the job then stays here and is decided again). */
    private static final Duration HANDOFF_WAIT = Duration.ofSeconds(5);
    /** How often waiting jobs are looked at again when nothing happened (deadlines come closer, mates free up). */
    private static final long TICK_MS = 200;

    /** What the intake asks of the rest of the worker. */
    public interface Host {
        /** The job loop runs nothing and has no handed-off job waiting. */
        boolean loopFree();

        /** The task the loop runs now and for how long it has (empty when it runs none). */
        Optional<Running> running();

        /** Why this worker may not start a job now (its card is hot, lost or resetting; it is stopping), or empty. */
        Optional<String> holdReason();

        /** The model is loaded on this worker's card. */
        boolean residentHere();

        boolean cancelled(String jobId);

        /** Answers {@code job} with {@code result} before it ran; true once the broker took the answer (then {@code ack} was run). */
        boolean answer(Mqtt5Publish p, Job job, JobResult result, Runnable ack);

        /** How many jobs this worker holds (waiting here, handed to itself, running). */
        void queued(int jobs);
    }

    public record Running(Task task, long elapsedMs) {
    }

    private final String model;
    private final String self;
    private final Host host;
    private final Pace pace;
    private final Mates mates;
    private final Clock clock;
    private final Mqtt5AsyncClient handoffClient;
    private final Handed handed;
    private final Map<Priority, Slot> slots = new EnumMap<>(Priority.class);
    private final AtomicLong seq = new AtomicLong();
    private final Thread thread;
    private volatile boolean running = true;
    private boolean signalled;
    /** A job handed to this worker's own loop and not yet taken by it: nothing else is handed to it meanwhile. */
    private volatile Reservation reserved;

    private record Reservation(Task task, long untilNanos) {
    }

    /**
     * @param handoffClient the connection handoffs and early answers go out on (the worker's own, which holds its handoff session)
     * @param digest        the digest of a delivered job ({@code AnsweredJobs.digest}): what makes a resent job the same job
     */
    public Intake(String model, String self, BrokerAddress broker, Duration sessionExpiry, Path stateDir, Host host, Pace pace, Mates mates,
                  Clock clock, Mqtt5AsyncClient handoffClient, Function<Mqtt5Publish, String> digest) {
        this.model = model;
        this.self = self;
        this.host = host;
        this.pace = pace;
        this.mates = mates;
        this.clock = clock;
        this.handoffClient = handoffClient;
        this.handed = new Handed(stateDir.resolve("handed-off.txt"), digest);
        for (Priority p : Priority.values()) {
            slots.put(p, new Slot(p, broker, sessionExpiry));
        }
        mates.onChange(this::signal);
        this.thread = new Thread(this::dispatch, "intake-" + model);
        this.thread.setDaemon(true);
    }

    /** The session a priority's intake connection keeps at the broker. */
    public static String clientId(String workerId, Priority p) {
        return "axfleet-worker-" + workerId + "-" + p.wire();
    }

    public void start() {
        slots.values().forEach(Slot::connect);
        thread.start();
    }

    /** Something changed for the loop (it took a job, ended one): decide again at once. */
    public void signal() {
        synchronized (this) {
            signalled = true;
            notifyAll();
        }
    }

    /** The loop took a job handed to it: the reservation is over. */
    public void taken() {
        reserved = null;
        signal();
    }

    /** Stops deciding and closes the intake connections; jobs waiting here stay with the broker, unacknowledged. */
    @Override
    public void close() {
        running = false;
        signal();
        try {
            thread.join(TimeUnit.SECONDS.toMillis(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (Slot s : slots.values()) {
            try {
                s.client.disconnect().get(2, TimeUnit.SECONDS);
            } catch (Exception e) {
                log.debug("intake {} disconnect: {}", s.priority.wire(), e.toString());
            }
        }
        handed.close();
    }

    private void dispatch() {
        while (running) {
            synchronized (this) {
                if (!signalled) {
                    try {
                        wait(TICK_MS);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
                signalled = false;
            }
            if (!running) {
                return;
            }
            try {
                round();
            } catch (RuntimeException e) {
                log.error("intake: {}", e.toString(), e);
            }
        }
    }

    /** Looks at every job waiting here, best first, and sends each where it goes next. */
    private void round() {
        Instant now = clock.instant();
        Reservation r = reserved;
        if (r != null && System.nanoTime() > r.untilNanos()) {
            reserved = r = null;
        }
        List<Held> waiting = new ArrayList<>();
        for (Slot s : slots.values()) {
            Held h = s.current();
            if (h != null) {
                waiting.add(h);
            }
        }
        waiting.sort(Comparator.comparing((Held h) -> h.priority).thenComparingLong(h -> h.seq));
        boolean free = r == null && host.loopFree();
        long ahead = host.running().map(run -> Math.max(0, pace.typicalMs(run.task()) - run.elapsedMs())).orElse(0L)
                + (r == null ? 0 : pace.typicalMs(r.task()));
        boolean mayRun = host.holdReason().isEmpty();
        boolean residentHere = host.residentHere();
        boolean elsewhere = mates.residentElsewhere();
        List<String> freeMates = new ArrayList<>(mates.free());
        for (Held h : waiting) {
            Job job = h.job();
            Task task = job == null ? null : job.task();
            Route.Decision d = Route.decide(job, job != null && host.cancelled(job.id()), now,
                    new Route.View(free, mayRun, residentHere, elsewhere, List.copyOf(freeMates)), ahead, task == null ? 0 : pace.leastMs(task));
            switch (d.kind()) {
                case RUN_HERE -> {
                    if (handOff(h, self, d.why())) {
                        reserved = new Reservation(task, System.nanoTime() + HANDOFF_WAIT.toNanos());
                        free = false;
                        ahead += task == null ? 0 : pace.typicalMs(task);
                    }
                }
                case PASS -> {
                    // Handed or not (its handoffs may not reach it), it is not free again until it says so.
                    handOff(h, d.to(), d.why());
                    mates.handed(d.to());
                    freeMates.remove(d.to());
                }
                case CANCELLED -> answer(h, JobResult.failed(job, Outcome.CANCELLED, JobError.of(ErrorCode.CANCELLED, d.why()), queueMs(job, now),
                        0, self));
                case EXPIRED -> answer(h, JobResult.failed(job, Outcome.EXPIRED, JobError.of(ErrorCode.EXPIRED, d.why()), queueMs(job, now), 0,
                        self));
                case WOULD_NOT_FINISH -> answer(h, JobResult.failed(job, Outcome.ERROR, JobError.of(ErrorCode.WOULD_NOT_FINISH, d.why()),
                        queueMs(job, now), 0, self));
                case WAIT -> ahead += task == null ? 0 : pace.typicalMs(task);
            }
        }
        int holding = 0;
        for (Slot s : slots.values()) {
            holding += s.current() == null ? 0 : 1;
        }
        host.queued(holding + (reserved != null || !host.loopFree() ? 1 : 0));
    }

    private static Long queueMs(Job job, Instant now) {
        return job.createdAt() == null ? null : Math.max(0, now.toEpochMilli() - job.createdAt().toEpochMilli());
    }

    /** Hands a waiting job to {@code target}; true once the broker has it there and it is acknowledged here. */
    private boolean handOff(Held h, String target, String why) {
        if (!h.slot.claim(h)) {
            return false;
        }
        handed.sending(h.priority, h.publish);
        try {
            Mqtt5PublishResult r = Handoff.send(handoffClient, model, target, self, h.publish, h.repeat).get(HANDOFF_WAIT.toMillis(),
                    TimeUnit.MILLISECONDS);
            if (r instanceof Mqtt5PublishResult.Mqtt5Qos1Result q && q.getPubAck().getReasonCode().isError()) {
                throw new IllegalStateException("the broker refused it: " + q.getPubAck().getReasonCode());
            }
            if (r instanceof Mqtt5PublishResult.Mqtt5Qos1Result q && q.getPubAck().getReasonCode() == Mqtt5PubAckReasonCode.NO_MATCHING_SUBSCRIBERS) {
                throw new IllegalStateException("nobody takes " + target + "'s handoffs");
            }
        } catch (Exception e) {
            log.warn("job={} not handed to {}: {}; it waits here", h.id(), target, e instanceof java.util.concurrent.ExecutionException x
                    ? x.getCause().toString() : e.toString());
            handed.notSent(h.priority);
            // It may have reached the broker all the same (a late acknowledgement): whoever takes it next runs it only if nobody answered it.
            h.repeat = true;
            h.slot.unclaim(h);
            return false;
        }
        if (target.equals(self)) {
            log.debug("job={} priority={} to this worker's loop: {}", h.id(), h.priority.wire(), why);
        } else {
            log.info("job={} priority={} handed to {}: {}", h.id(), h.priority.wire(), target, why);
        }
        h.slot.acknowledge(h, true);
        return true;
    }

    private void answer(Held h, JobResult result) {
        if (!h.slot.claim(h)) {
            return;
        }
        if (!host.answer(h.publish, h.job(), result, () -> h.slot.acknowledge(h, false))) {
            h.slot.unclaim(h);
        }
    }

    /** A job delivered to an intake connection and not yet sent on. */
    private final class Held {
        final Slot slot;
        final Mqtt5Publish publish;
        final Priority priority;
        final long seq;
        /** An earlier handoff of it may have reached the broker: it is handed off marked as a possible repeat. */
        volatile boolean repeat;
        private boolean decoded;
        private Job job;
        private String id;

        Held(Slot slot, Mqtt5Publish publish, long seq) {
            this.slot = slot;
            this.publish = publish;
            this.priority = slot.priority;
            this.seq = seq;
        }

        /** The job as read (once, here: an image job is large), or null when it cannot be read. */
        synchronized Job job() {
            if (!decoded) {
                decoded = true;
                try {
                    job = WireCodec.decodeJob(publish.getTopic().toString(), publish.getPayloadAsBytes(),
                            publish.getResponseTopic().map(Object::toString).orElse(null), publish.getCorrelationData().map(Intake::bytes).orElse(null));
                    id = job.id();
                } catch (InvalidJobException e) {
                    id = e.jobId();
                }
            }
            return job;
        }

        synchronized String id() {
            job();
            return id;
        }
    }

    /** One priority's intake connection and the job it holds (Receive Maximum 1: at most one). */
    private final class Slot {
        final Priority priority;
        final Mqtt5AsyncClient client;
        private final Duration sessionExpiry;
        private Held current;
        private boolean claimed;
        /** The first delivery since the connection came up has not arrived yet. */
        private boolean awaitingFirst = true;

        Slot(Priority priority, BrokerAddress broker, Duration sessionExpiry) {
            this.priority = priority;
            this.sessionExpiry = sessionExpiry;
            this.client = MqttClients.builder(broker, clientId(self, priority))
                    .addConnectedListener(ctx -> subscribe())
                    .addDisconnectedListener(ctx -> connectionLost())
                    .buildAsync();
        }

        void connect() {
            client.publishes(MqttGlobalPublishFilter.ALL, this::delivered, true);
            client.connectWith().cleanStart(false).sessionExpiryInterval(sessionExpiry.toSeconds())
                    .restrictions().receiveMaximum(1).applyRestrictions()
                    .send()
                    .whenComplete((ack, e) -> {
                        if (e != null) {
                            log.debug("intake {} not connected yet ({}); retrying in the background", priority.wire(), e.getMessage());
                        }
                    });
        }

        private void subscribe() {
            // On every connection: Mosquitto 2.0.11 restores a session after a restart without its shared subscriptions.
            client.subscribeWith().topicFilter(Topics.jobsShared(model, priority)).qos(MqttQos.AT_LEAST_ONCE).send();
        }

        /** On the MQTT client's thread, in delivery order. */
        private void delivered(Mqtt5Publish p) {
            boolean first;
            synchronized (this) {
                first = awaitingFirst;
                awaitingFirst = false;
            }
            Handed.Resent resent = handed.resent(priority, p, first);
            if (resent == Handed.Resent.HANDED) {
                log.info("a {} job handed off before the connection dropped was resent; acknowledged, not handed off again", priority.wire());
                p.acknowledge();
                return;
            }
            Held h = new Held(this, p, seq.incrementAndGet());
            if (resent == Handed.Resent.MAYBE) {
                log.info("a {} job whose handoff was going out when the worker stopped was resent; handed off again as a possible repeat",
                        priority.wire());
                h.repeat = true;
            }
            synchronized (this) {
                current = h;
                claimed = false;
            }
            signal();
        }

        synchronized Held current() {
            return claimed ? null : current;
        }

        synchronized boolean claim(Held h) {
            if (current != h || claimed) {
                return false;
            }
            claimed = true;
            return true;
        }

        synchronized void unclaim(Held h) {
            if (current == h) {
                claimed = false;
            }
        }

        /** The job was handed off ({@code handedOff}) or answered: acknowledged to the broker. */
        void acknowledge(Held h, boolean handedOff) {
            synchronized (this) {
                if (handedOff) {
                    handed.handing(priority, h.publish);
                }
                if (current != h) {
                    return; // the connection dropped meanwhile: the broker resends it, and the record says it was handed off
                }
                current = null;
                claimed = false;
                h.publish.acknowledge();
            }
            signal();
        }

        /**
         * The connection dropped: the job held is released in the client (its acknowledgement could not reach the broker,
         * which resends it first on the next connection; held, it would count against Receive Maximum 1 then, as
         * {@code Delivery} explains). One handed off meanwhile is expected back, and acknowledged then.
         */
        private void connectionLost() {
            Held h;
            synchronized (this) {
                h = current;
                current = null;
                claimed = false;
                awaitingFirst = true;
            }
            if (h != null) {
                h.publish.acknowledge();
            }
            signal();
        }
    }

    private static byte[] bytes(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }
}
