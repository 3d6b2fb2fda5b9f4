package dev.axfleet.worker;

import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import dev.axfleet.broker.AudioChunk;
import dev.axfleet.broker.InvalidJobException;
import dev.axfleet.broker.Job;
import dev.axfleet.broker.JobDelta;
import dev.axfleet.broker.JobResult;
import dev.axfleet.broker.JobState;
import dev.axfleet.broker.JobStatus;
import dev.axfleet.broker.Kind;
import dev.axfleet.broker.Outcome;
import dev.axfleet.broker.TaskOutput;
import dev.axfleet.broker.WireCodec;
import dev.axfleet.broker.ErrorCode;
import dev.axfleet.broker.JobError;
import dev.axfleet.broker.residency.KeepAlive;
import dev.axfleet.broker.residency.Residence;
import dev.axfleet.broker.residency.ResidencyCodec;
import dev.axfleet.broker.residency.ResidencyReply;
import dev.axfleet.broker.residency.ResidencyRequest;
import dev.axfleet.worker.priority.Handoff;
import dev.axfleet.worker.priority.Intake;
import dev.axfleet.worker.priority.Pace;
import dev.axfleet.worker.residency.Room;
import dev.axfleet.worker.runtime.EngineException;
import dev.axfleet.worker.runtime.ModelRuntime;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.time.Instant;
import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker's one thread: it runs jobs one at a time, in the order the broker hands them over, each through the
 * same life (queued, running, outcome, each published) whatever its kind; the runner of the job's kind does the
 * work. A job is acknowledged to the broker only after its result has been acknowledged by the broker, so a worker
 * that dies mid-job gets that job again when it comes back; {@link AnsweredJobs} keeps a job that was answered but
 * not yet acknowledged from being answered twice.
 *
 * <p>Between jobs it also keeps the model's place on the card: it loads the model at start when it is preloaded, serves
 * load and unload requests, unloads it when its keep-alive has passed since its last use, and a job for a model not on
 * the card loads it first (making room by unloading idle models, {@link Room}). A model is never unloaded while it runs a
 * job: all of this happens on this one thread, between jobs.
 */
final class JobLoop implements Runnable {
    private static final Logger log = LoggerFactory.getLogger("jobs");

    private final WorkerConfig config;
    private final ModelRuntime runtime;
    private final Map<Kind, Runner> runners = new EnumMap<>(Kind.class);
    private final Replies replies;
    private final AnsweredJobs answered;
    private final Cancellations cancellations;
    private final WorkerStatus status;
    private final Clock clock;
    private final CardGate card;
    private final Delivery delivery;
    private final Lifecycle lifecycle;
    private final RuntimeKeeper keeper;
    private final Pace pace;
    /** Told when the loop takes a job or ends one (the intake then decides what comes next). */
    private volatile Runnable onChange = () -> { };
    private volatile boolean busy;
    private volatile dev.axfleet.broker.Task runningTask;
    private volatile long runningSince;
    private final java.util.Queue<ResidencyRequest> requests = new java.util.concurrent.ConcurrentLinkedQueue<>();
    private volatile boolean stopping;
    private volatile String restartRequest;
    /** Whether the model should be on the card: preloaded, or loaded by a job or a request, and not unloaded since. */
    private boolean wanted;
    private KeepAlive keepAlive;
    private Instant lastUsed;
    private long lastIdleNanos = System.nanoTime();
    private String lastRefusal;

    JobLoop(WorkerConfig config, ModelRuntime runtime, Replies replies, AnsweredJobs answered, Cancellations cancellations,
            WorkerStatus status, CardGate card, Clock clock, Room room, Pace pace) {
        this.card = card;
        this.pace = pace;
        this.config = config;
        this.runtime = runtime;
        this.replies = replies;
        this.answered = answered;
        this.cancellations = cancellations;
        this.status = status;
        this.clock = clock;
        this.delivery = new Delivery(answered);
        this.lifecycle = new Lifecycle(config.workerId());
        this.keeper = new RuntimeKeeper(config, runtime, status, card, () -> stopping, room);
        this.keepAlive = config.residency().preload() ? KeepAlive.FOREVER : config.residency().keepAlive();
        runtime.runners(new Runners(config)).forEach(r -> runners.put(r.kind(), r));
    }

    /** Hands over a job as the broker delivered it; called on the MQTT client's thread. */
    void offer(Mqtt5Publish publish) {
        delivery.offer(publish);
    }

    void onChange(Runnable r) {
        this.onChange = r;
    }

    /** Runs no job and has none waiting: a job handed to it now starts at once. */
    boolean free() {
        return !busy && delivery.waiting() == 0 && !stopping;
    }

    /** What runs now, for the intake's estimate of when the next job could start. */
    Optional<Intake.Running> running() {
        dev.axfleet.broker.Task t = runningTask;
        return t == null ? Optional.empty() : Optional.of(new Intake.Running(t, (System.nanoTime() - runningSince) / 1_000_000));
    }

    /** The model is loaded on the card. */
    boolean resident() {
        return keeper.ready();
    }

    /** The job connection dropped: see {@link Delivery#connectionLost()}. */
    void connectionLost() {
        delivery.connectionLost();
    }

    /** Asks for the runtime to be restarted once no job is running (the monitor's first recovery step). */
    void requestRestart(String why) {
        restartRequest = why;
    }

    /** A load or unload request for this worker's model; served between jobs, in order. */
    void request(ResidencyRequest r) {
        requests.add(r);
    }

    /** Ends the loop; a job that is running ends unanswered and unacknowledged, so the broker keeps it. */
    void stop() {
        stopping = true;
    }

    @Override
    public void run() {
        boot();
        while (!stopping) {
            serveRequests();
            expire();
            Mqtt5Publish p;
            try {
                p = delivery.next(Math.min(100, config.healthInterval().toMillis()));
            } catch (InterruptedException e) {
                break;
            }
            if (p == null) {
                if (System.nanoTime() - lastIdleNanos >= config.healthInterval().toNanos()) {
                    lastIdleNanos = System.nanoTime();
                    idle();
                }
            } else {
                busy = true;
                onChange.run();
                try {
                    handle(p);
                } finally {
                    busy = false;
                    runningTask = null;
                    onChange.run();
                }
            }
        }
    }

    /** At start: a preloaded model is loaded if it fits beside those already there (nobody is unloaded for it). */
    private void boot() {
        publishResidence();
        if (!config.residency().preload()) {
            status.unloaded("not preloaded (models.preload does not name it): its first job or a load request loads it");
            return;
        }
        wanted = true;
        if (keeper.ensure(() -> false, false) == RuntimeKeeper.Start.READY) {
            used();
        } else if (!stopping) {
            refused("not preloaded: " + keeper.refusal());
        }
    }

    /** The model was used now (a job ended, it was loaded): its keep-alive counts from here. */
    private void used() {
        lastUsed = clock.instant();
        publishResidence();
    }

    private void refused(String why) {
        if (!why.equals(lastRefusal)) {
            lastRefusal = why;
            status.unloaded(why);
        }
    }

    private KeepAlive effectiveKeepAlive() {
        return config.residency().pinned() ? KeepAlive.FOREVER : keepAlive;
    }

    /** Says in the retained state where the model stands on the card. */
    private void publishResidence() {
        KeepAlive keep = effectiveKeepAlive();
        Instant expires = keeper.ready() && lastUsed != null ? keep.expiry(lastUsed).orElse(null) : null;
        status.residence(new Residence(config.cmmMiB(), config.residency().pinned(), keep, lastUsed, expires));
    }

    /** Unloads the model when its keep-alive has passed since its last use. */
    private void expire() {
        KeepAlive keep = effectiveKeepAlive();
        if (keeper.ready() && lastUsed != null && keep.expiry(lastUsed).filter(t -> !clock.instant().isBefore(t)).isPresent()) {
            unload(keep.unloadNow() ? "keep_alive 0: unloaded after its request" : "keep_alive " + keep + " passed since its last use");
        }
    }

    private void unload(String why) {
        wanted = false;
        keeper.unload(why);
        keepAlive = config.residency().keepAlive();
        lastRefusal = null;
        publishResidence();
    }

    /** Load and unload requests, in the order they came; each answered when it asks for an answer. */
    private void serveRequests() {
        ResidencyRequest r;
        while (!stopping && (r = requests.poll()) != null) {
            ResidencyRequest req = r;
            java.util.function.BooleanSupplier expired = () -> req.expiresAt() != null && !clock.instant().isBefore(req.expiresAt());
            // An unload is done however late (Ollama unloads once the runner's requests are done); a load is not.
            if (req.action() == ResidencyRequest.Action.LOAD && expired.getAsBoolean()) {
                answer(req, ResidencyReply.Outcome.FAILED, 0, "the request expired before the worker got to it");
                continue;
            }
            if (req.action() == ResidencyRequest.Action.UNLOAD) {
                if (config.residency().pinned()) {
                    log.info("unload of {} asked by {} refused: it is pinned", config.model(), req.by());
                    answer(req, ResidencyReply.Outcome.REFUSED, 0, config.model() + " is pinned (models.pinned): it is not unloaded on request");
                    continue;
                }
                boolean was = keeper.ready();
                unload(req.reason() != null ? req.reason() : "unload asked by " + req.by());
                answer(req, ResidencyReply.Outcome.UNLOADED, 0, was ? null : "it was not loaded");
                continue;
            }
            if (keeper.ready()) {
                if (req.keepAlive() != null) {
                    keepAlive = req.keepAlive();
                }
                used();
                answer(req, ResidencyReply.Outcome.LOADED, 0, "it was loaded already");
                continue;
            }
            wanted = true;
            keepAlive = req.keepAlive() != null ? req.keepAlive() : config.residency().keepAlive();
            RuntimeKeeper.Start s = keeper.ensure(expired, true);
            switch (s) {
                case READY -> {
                    used();
                    answer(req, ResidencyReply.Outcome.LOADED, keeper.lastLoadMs(), null);
                }
                case REFUSED -> {
                    wanted = false;
                    refused(keeper.refusal());
                    answer(req, ResidencyReply.Outcome.INSUFFICIENT_MEMORY, 0, keeper.refusal());
                }
                case GONE -> {
                    if (!stopping) {
                        wanted = false;
                        answer(req, ResidencyReply.Outcome.FAILED, 0, "not loaded before the request expired");
                    }
                }
            }
        }
    }

    private void answer(ResidencyRequest r, ResidencyReply.Outcome outcome, long loadMs, String message) {
        log.info("{} of {} asked by {}: {}{}", r.action().wire(), config.model(), r.by(), outcome.wire(), message == null ? "" : " (" + message + ")");
        if (r.replyTo() != null && r.id() != null) {
            replies.residency(r.replyTo(), ResidencyCodec.encodeReply(new ResidencyReply(r.id(), config.model(), config.workerId(), outcome, loadMs,
                    message, clock.instant())));
        }
    }

    /** Between jobs: follow the card, restart the runtime when asked, probe it, start it when it is down. */
    private void idle() {
        status.held(card.holdReason().orElse(null));
        if (card.cardDown()) {
            keeper.release(keeper.cardDownReason());
            return;
        }
        String why = restartRequest;
        if (why != null) {
            restartRequest = null;
            if (keeper.ready()) {
                log.warn("restarting the runtime on request: {}", why);
                keeper.restart(why);
                return;
            }
        }
        keeper.probe();
        if (wanted && !keeper.ready()) {
            // Back after a failure or a lost card, or a preloaded model still waiting for room: nobody is unloaded for it.
            if (keeper.ensure(() -> false, false) == RuntimeKeeper.Start.REFUSED) {
                refused("waiting for room on the card: " + keeper.refusal());
            } else if (keeper.ready()) {
                lastRefusal = null;
                used();
            }
        }
    }

    private void handle(Mqtt5Publish p) {
        Instant received = clock.instant();
        byte[] correlation = p.getCorrelationData().map(JobLoop::bytes).orElse(null);
        String responseTopic = p.getResponseTopic().map(Object::toString).orElse(null);
        Job job;
        try {
            job = WireCodec.decodeJob(Handoff.jobTopic(p), p.getPayloadAsBytes(), responseTopic, correlation);
        } catch (InvalidJobException e) {
            log.warn("job={} rejected: {}", e.jobId(), e.getMessage());
            complete(p, e.replyTo(), e.correlation(), JobResult.failed(e.jobId(), e.model() == null ? config.model() : e.model(), null,
                    Outcome.ERROR, e.error(), null, 0, config.workerId()));
            return;
        }
        runningTask = job.task();
        runningSince = System.nanoTime();
        Runner runner = runners.get(job.kind());
        if (runner == null || !runtime.tasks().contains(job.task())) {
            log.warn("job={} rejected: task {} on a {} worker", job.id(), job.task().wire(), runtime.kind());
            complete(p, job.replyTo(), job.correlation(), lifecycle.refuseTask(job, runtime.tasks(), runtime.missing(job.task())));
            return;
        }
        AnsweredJobs.Decision seen = answered.decide(job.id(), AnsweredJobs.digest(p), AnsweredJobs.redeliverable(p), received);
        if (seen.verdict() == AnsweredJobs.Verdict.ACKNOWLEDGE) {
            log.info("job={} redelivered: {}; acknowledged, not run again", job.id(), seen.why());
            delivery.acknowledge(p);
            return;
        }
        if (seen.verdict() == AnsweredJobs.Verdict.REPLAY && Handoff.repeat(p)) {
            log.info("job={} handed off again after its intake stopped mid-handoff: {}; acknowledged, not answered again", job.id(), seen.why());
            delivery.acknowledge(p);
            return;
        }
        if (seen.verdict() == AnsweredJobs.Verdict.REPLAY) {
            log.info("job={} model={} outcome=replayed ({})", job.id(), job.model(), seen.why());
            publishAndAcknowledge(p, job.replyTo(), job.correlation(), job.id(), seen.result(), false);
            return;
        }
        Long queueMs = Lifecycle.queueMs(job, received);
        JobResult result;
        if (!awaitCard(job)) {
            result = stopping ? null : lifecycle.ended(job, cancellations.contains(job.id()), queueMs, 0);
        } else {
            result = lifecycle.beforeRun(job, received, cancellations.contains(job.id()), queueMs).orElseGet(() -> run(job, runner, queueMs));
        }
        if (result != null) {
            complete(p, job.replyTo(), job.correlation(), result);
            if (keeper.ready()) {
                if (job.keepAlive() != null && !config.residency().pinned()) {
                    keepAlive = job.keepAlive();
                }
                used();
                expire();
            }
        }
    }

    /**
     * Holds a job, unacknowledged, while the card is hot, lost or being reset; the broker keeps the jobs
     * behind it queued. False when the job expired or was cancelled meanwhile, or the worker stops.
     */
    private boolean awaitCard(Job job) {
        Optional<String> why;
        while (!stopping && (why = card.holdReason()).isPresent()) {
            if (gone(job)) {
                return false;
            }
            status.held(why.get());
            if (card.cardDown()) {
                keeper.release(why.get());
            }
            if (!keeper.awaitCardNews()) {
                return false;
            }
        }
        status.held(null);
        return !stopping;
    }

    /** Whether a job waiting for the card or the runtime expired or was cancelled meanwhile. */
    private boolean gone(Job job) {
        return job.isExpired(clock.instant()) || cancellations.contains(job.id());
    }

    /** Runs a job on its kind's runner; null when the worker is stopping and the job must stay with the broker. */
    private JobResult run(Job job, Runner runner, Long queueMs) {
        replies.status(new JobStatus(job.id(), job.model(), JobState.RUNNING, config.workerId(), clock.instant()));
        long start = System.nanoTime();
        Context context = new Context(job);
        if (config.residency().pinned() && job.keepAlive() != null && !job.keepAlive().forever()) {
            context.warn("keep_alive " + job.keepAlive() + " not honoured: " + config.model() + " is pinned (models.pinned) and stays loaded");
        }
        for (int attempt = 0; ; attempt++) {
            if (!keeper.ready()) {
                if (!wanted) {
                    keepAlive = config.residency().keepAlive();
                }
                wanted = true;
                RuntimeKeeper.Start s = keeper.ensure(() -> gone(job), true);
                if (s == RuntimeKeeper.Start.REFUSED) {
                    wanted = false;
                    refused(keeper.refusal());
                    return lifecycle.failed(job, Outcome.ERROR, JobError.of(ErrorCode.INSUFFICIENT_MEMORY, keeper.refusal()), queueMs, ms(start));
                }
                if (s == RuntimeKeeper.Start.GONE) {
                    return stopping ? null : lifecycle.ended(job, cancellations.contains(job.id()), queueMs, ms(start));
                }
                lastRefusal = null;
                used();
            }
            try {
                TaskOutput out = runner.run(job, context);
                return stopping ? null : JobResult.done(job, out, queueMs, ms(start), config.workerId()).withWarnings(context.warnings);
            } catch (CancellationException e) {
                return stopping ? null : lifecycle.cancelledWhileRunning(job, e.getMessage(), queueMs, ms(start));
            } catch (JobFailure e) {
                return stopping ? null : lifecycle.failed(job, Outcome.ERROR, e.error(), queueMs, ms(start));
            } catch (EngineException e) {
                if (stopping) {
                    return null;
                }
                if (context.cancelled()) {
                    return lifecycle.cancelledWhileRunning(job, null, queueMs, ms(start));
                }
                Lifecycle.AfterFailure next = lifecycle.afterFailure(e, attempt, context.streamed());
                if (next instanceof Lifecycle.Fail fail && !fail.restart()) {
                    return lifecycle.failed(job, Outcome.ERROR, fail.error(), queueMs, ms(start));
                }
                log.warn("job={} {}; restarting the runtime", job.id(), e.getMessage());
                if (e.kind() == EngineException.Kind.STALLED) {
                    status.strike("job " + job.id() + ": " + e.getMessage());
                }
                keeper.restart(e.getMessage());
                if (next instanceof Lifecycle.Fail fail) {
                    return lifecycle.failed(job, Outcome.ERROR, fail.error(), queueMs, ms(start));
                }
            }
        }
    }

    /** What a runner may do while its job runs, published on the job's reply and status topics. */
    private final class Context implements RunContext {
        private final Job job;
        private final java.util.List<String> warnings = new java.util.ArrayList<>();
        private int seq;

        Context(Job job) {
            this.job = job;
        }

        @Override
        public void delta(String text, boolean thinking) {
            if (!job.stream()) {
                return;
            }
            if (seq == 0) {
                replies.status(new JobStatus(job.id(), job.model(), JobState.STREAMING, config.workerId(), clock.instant()));
            }
            replies.delta(job, new JobDelta(job.id(), seq++, text, thinking));
        }

        @Override
        public int audio(byte[] audio, boolean last, int maxMessageBytes) {
            if (!job.stream()) {
                return 0;
            }
            if (seq == 0) {
                replies.status(new JobStatus(job.id(), job.model(), JobState.STREAMING, config.workerId(), clock.instant()));
            }
            int messages = 0;
            int at = 0;
            do {
                int room = AudioChunk.capacity(job.id(), seq, true, maxMessageBytes);
                if (room == 0) {
                    throw new IllegalArgumentException("chunk_bytes " + maxMessageBytes + " leaves no room for audio");
                }
                int n = Math.min(room, audio.length - at);
                boolean end = last && at + n == audio.length;
                replies.audio(job, new AudioChunk(job.id(), seq++, java.util.Arrays.copyOfRange(audio, at, at + n), end));
                at += n;
                messages++;
            } while (at < audio.length);
            return messages;
        }

        @Override
        public void progress(int done, int total) {
            replies.status(new JobStatus(job.id(), job.model(), JobState.RUNNING, config.workerId(), clock.instant(), done, total));
        }

        @Override
        public boolean cancelled() {
            return stopping || cancellations.contains(job.id());
        }

        @Override
        public boolean streamed() {
            return seq > 0;
        }

        @Override
        public void warn(String warning) {
            if (!warnings.contains(warning)) {
                warnings.add(warning);
            }
        }
    }

    /** Publishes the result, waits for the broker to take it, then acknowledges the job. */
    private void complete(Mqtt5Publish p, String replyTo, byte[] correlation, JobResult r) {
        complete(p, replyTo, correlation, r, () -> delivery.acknowledge(p));
    }

    /**
     * Answers a job from the intake before it ran (cancelled, expired, would not finish in time), as a job the loop
     * ended; {@code ack} acknowledges it there. Called on the intake's thread.
     */
    boolean answerEarly(Mqtt5Publish p, Job job, JobResult r, Runnable ack) {
        return complete(p, job.replyTo(), job.correlation(), r, ack);
    }

    private boolean complete(Mqtt5Publish p, String replyTo, byte[] correlation, JobResult r, Runnable ack) {
        if (!publishAndAcknowledge(p, replyTo, correlation, r.id(), WireCodec.encodeResult(r), true, ack)) {
            return false;
        }
        if (r.outcome() == Outcome.DONE) {
            pace.record(r.task(), r.runMs());
        }
        replies.status(new JobStatus(r.id(), r.model(), JobState.of(r.outcome()), config.workerId(), clock.instant()));
        status.count(r);
        log.info("job={} model={} task={} outcome={} queue_ms={} run_ms={}{}{}", r.id(), r.model(), r.task() == null ? "-" : r.task().wire(),
                r.outcome().wire(), r.queueMs() == null ? "-" : r.queueMs(), r.runMs(), r.output() == null ? "" : " " + r.output().logLine(),
                r.error() == null ? "" : " error=\"" + r.error().message() + "\"");
        return true;
    }

    /**
     * Publishes an encoded result, waits for the broker to take it, records it as answered ({@code record}: a new
     * answer, shared with the other workers of the model; a replayed one keeps its first time), then acknowledges
     * the job. False when the result could not be published: the job stays unacknowledged and the broker delivers
     * it again.
     */
    private boolean publishAndAcknowledge(Mqtt5Publish p, String replyTo, byte[] correlation, String id, byte[] result, boolean record) {
        return publishAndAcknowledge(p, replyTo, correlation, id, result, record, () -> delivery.acknowledge(p));
    }

    private boolean publishAndAcknowledge(Mqtt5Publish p, String replyTo, byte[] correlation, String id, byte[] result, boolean record,
                                          Runnable ack) {
        if (replyTo != null) {
            try {
                replies.result(replyTo, correlation, result).get();
            } catch (ExecutionException e) {
                log.error("job={} result not published ({}); the broker will deliver the job again", id, e.getCause().toString());
                return false;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        if (record) {
            answered.add(id, AnsweredJobs.digest(p), result, clock.instant());
        }
        ack.run();
        return true;
    }


    private static long ms(long startNanos) {
        return (System.nanoTime() - startNanos) / 1_000_000;
    }

    private static byte[] bytes(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }
}
