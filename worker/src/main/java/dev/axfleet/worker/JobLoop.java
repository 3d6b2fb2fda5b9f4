package dev.axfleet.worker;

import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import dev.axfleet.broker.ChatParams;
import dev.axfleet.broker.ImageParams;
import dev.axfleet.broker.InterrogateParams;
import dev.axfleet.broker.InvalidJobException;
import dev.axfleet.broker.Job;
import dev.axfleet.broker.JobDelta;
import dev.axfleet.broker.JobError;
import dev.axfleet.broker.JobResult;
import dev.axfleet.broker.JobState;
import dev.axfleet.broker.JobStatus;
import dev.axfleet.broker.Outcome;
import dev.axfleet.broker.Task;
import dev.axfleet.broker.TaskOutput;
import dev.axfleet.broker.Usage;
import dev.axfleet.broker.WireCodec;
import dev.axfleet.worker.runtime.ChatOutcome;
import dev.axfleet.worker.runtime.ChatRuntime;
import dev.axfleet.worker.runtime.EngineException;
import dev.axfleet.worker.runtime.Generation;
import dev.axfleet.worker.runtime.ImageRuntime;
import dev.axfleet.worker.runtime.ModelRuntime;
import dev.axfleet.worker.runtime.RuntimeStartException;
import dev.axfleet.broker.TokenEstimate;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker's one thread: it owns the runtime and runs jobs one at a time, in the order the broker hands
 * them over. A job is acknowledged to the broker only after its result has been acknowledged by the broker,
 * so a worker that dies mid-job gets that job again when it comes back; {@link AnsweredJobs} keeps a job
 * that was answered but not yet acknowledged from being answered twice.
 */
final class JobLoop implements Runnable {
    private static final Logger log = LoggerFactory.getLogger("jobs");
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(60);

    private final WorkerConfig config;
    private final ModelRuntime runtime;
    private final Replies replies;
    private final AnsweredJobs answered;
    private final Cancellations cancellations;
    private final WorkerStatus status;
    private final Clock clock;
    private final CardGate card;
    private final BlockingQueue<Mqtt5Publish> inbox = new LinkedBlockingQueue<>();
    /**
     * Delivered on the current connection and not yet acknowledged: the job running, or waiting in the inbox.
     * By identity: a copy the broker resends is equal to the first delivery but is acknowledged on its own.
     */
    private final Set<Mqtt5Publish> unacknowledged = Collections.synchronizedSet(Collections.newSetFromMap(new IdentityHashMap<>()));
    private volatile boolean stopping;
    private volatile String restartRequest;
    private boolean runtimeReady;
    private int startFailures;

    JobLoop(WorkerConfig config, ModelRuntime runtime, Replies replies, AnsweredJobs answered, Cancellations cancellations,
            WorkerStatus status, CardGate card, Clock clock) {
        this.card = card;
        this.config = config;
        this.runtime = runtime;
        this.replies = replies;
        this.answered = answered;
        this.cancellations = cancellations;
        this.status = status;
        this.clock = clock;
    }

    /** Hands over a job as the broker delivered it; called on the MQTT client's thread. */
    void offer(Mqtt5Publish publish) {
        unacknowledged.add(publish);
        inbox.add(publish);
    }

    /**
     * The job connection dropped: jobs delivered on it are released in the client at once. Their acknowledgement
     * could not reach the broker any more (the client sends none on a later connection); the broker delivers them
     * again on the next one, and {@link AnsweredJobs} absorbs a copy of a job answered meanwhile. Held instead,
     * such a job still counts against Receive Maximum 1 when the broker resends it, and the client drops the
     * new connection as a protocol error, again at every reconnection (Mosquitto 2.0.11, HiveMQ CE alike).
     */
    void connectionLost() {
        List<Mqtt5Publish> held;
        synchronized (unacknowledged) {
            held = List.copyOf(unacknowledged);
        }
        for (Mqtt5Publish p : held) {
            if (unacknowledged.remove(p)) {
                p.acknowledge();
            }
        }
    }

    private void acknowledge(Mqtt5Publish p) {
        if (unacknowledged.remove(p)) {
            p.acknowledge();
        }
    }

    /** Asks for the runtime to be restarted once no job is running (the monitor's first recovery step). */
    void requestRestart(String why) {
        restartRequest = why;
    }

    /** Ends the loop; a job that is running ends unanswered and unacknowledged, so the broker keeps it. */
    void stop() {
        stopping = true;
    }

    @Override
    public void run() {
        ensureRuntime(null);
        while (!stopping) {
            Mqtt5Publish p;
            try {
                p = inbox.poll(config.healthInterval().toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                break;
            }
            if (p == null) {
                idle();
            } else {
                status.queued(1);
                handle(p);
                status.queued(inbox.size());
            }
        }
    }

    /** Between jobs: follow the card, restart the runtime when asked, probe it, start it when it is down. */
    private void idle() {
        status.held(card.holdReason().orElse(null));
        if (card.cardDown()) {
            release(cardDownReason());
            return;
        }
        String why = restartRequest;
        if (why != null) {
            restartRequest = null;
            if (runtimeReady) {
                log.warn("restarting the runtime on request: {}", why);
                restart(why);
                return;
            }
        }
        if (runtimeReady && !runtime.healthy()) {
            log.warn("the runtime failed its health probe while idle; restarting it");
            runtimeReady = false;
            status.restarting("runtime failed its health probe");
            runtime.close();
        }
        ensureRuntime(null);
    }

    private void handle(Mqtt5Publish p) {
        Instant received = clock.instant();
        byte[] correlation = p.getCorrelationData().map(JobLoop::bytes).orElse(null);
        String responseTopic = p.getResponseTopic().map(Object::toString).orElse(null);
        Job job;
        try {
            job = WireCodec.decodeJob(p.getTopic().toString(), p.getPayloadAsBytes(), responseTopic, correlation);
        } catch (InvalidJobException e) {
            log.warn("job={} rejected: {}", e.jobId(), e.getMessage());
            complete(p, e.replyTo(), e.correlation(), JobResult.failed(e.jobId(), e.model() == null ? config.model() : e.model(),
                    Outcome.ERROR, e.error(), null, 0, config.workerId()));
            return;
        }
        if (!runtime.tasks().contains(job.task())) {
            log.warn("job={} rejected: task {} on a {} worker", job.id(), job.task().wire(), runtime.kind());
            complete(p, job.replyTo(), job.correlation(), JobResult.failed(job.id(), job.model(), Outcome.ERROR,
                    JobError.invalid("task", "model " + job.model() + (job.task().isImage() ? " is a chat model; " + job.task().wire()
                            + " jobs go to an image model" : " is an image model; chat jobs go to a chat model")
                            + (job.task() == Task.INTERROGATE ? " with its CLIP models installed" : "")),
                    null, 0, config.workerId()));
            return;
        }
        if (answered.contains(job.id())) {
            log.info("job={} was already answered; acknowledging its redelivery", job.id());
            acknowledge(p);
            return;
        }
        Long queueMs = job.createdAt() == null ? null : Math.max(0, received.toEpochMilli() - job.createdAt().toEpochMilli());
        JobResult result;
        if (!awaitCard(job)) {
            result = stopping ? null : ended(job, queueMs, 0);
        } else if (cancellations.contains(job.id())) {
            result = failed(job, Outcome.CANCELLED, JobError.of("cancelled", "cancelled before it ran"), queueMs, 0);
        } else if (job.isExpired(received)) {
            result = failed(job, Outcome.EXPIRED, JobError.of("expired", "expired at " + job.expiresAt() + " before a worker took it"),
                    queueMs, 0);
        } else {
            result = run(job, queueMs);
        }
        if (result != null) {
            complete(p, job.replyTo(), job.correlation(), result);
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
                release(why.get());
            }
            if (!awaitCardNews()) {
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

    private String cardDownReason() {
        return card.holdReason().orElse("the card is down");
    }

    /** Waits a moment for news about the card; false when the thread was interrupted. */
    private boolean awaitCardNews() {
        try {
            card.await(250);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Stops the runtime because its card is lost or being reset; it starts again when the card is back. */
    private void release(String why) {
        if (runtimeReady || !runtime.pids().isEmpty()) {
            log.warn("stopping the runtime: {}", why);
            runtime.close();
            runtimeReady = false;
        }
        status.paused(why);
    }

    /** Runs a job on the runtime; null when the worker is stopping and the job must stay with the broker. */
    private JobResult run(Job job, Long queueMs) {
        return job.task() == Task.CHAT ? runChat(job, queueMs) : runImage(job, queueMs);
    }

    private JobResult runChat(Job job, Long queueMs) {
        ChatRuntime chat = (ChatRuntime) runtime;
        ChatParams params = (ChatParams) job.params();
        int maxTokens = params.maxTokens() != null ? params.maxTokens() : config.defaultMaxTokens();
        replies.status(new JobStatus(job.id(), job.model(), JobState.RUNNING, config.workerId(), clock.instant()));
        long start = System.nanoTime();
        for (int attempt = 0; ; attempt++) {
            if (!ensureRuntime(job)) {
                return stopping ? null : ended(job, queueMs, ms(start));
            }
            ContextFit.Result fit = ContextFit.fit(params.messages(), chat.contextTokens(), maxTokens, config.contextOverflow());
            if (fit.refusal() != null) {
                return failed(job, Outcome.ERROR, JobError.of(JobError.CONTEXT_LENGTH_EXCEEDED, fit.refusal()), queueMs, ms(start));
            }
            if (params.think() && !chat.thinks()) {
                return failed(job, Outcome.ERROR, JobError.invalid("think", job.model() + " cannot think on the " + chat.kind()
                        + " runtime; send think false or leave it out"), queueMs, ms(start));
            }
            ChatParams sent = fit.dropped() == 0 ? params : params.withMessages(fit.messages());
            int[] seq = {0};
            java.util.function.BiConsumer<String, Boolean> publish = (text, thinking) -> {
                if (job.stream()) {
                    if (seq[0] == 0) {
                        replies.status(new JobStatus(job.id(), job.model(), JobState.STREAMING, config.workerId(), clock.instant()));
                    }
                    replies.delta(job, new JobDelta(job.id(), seq[0]++, text, thinking));
                }
            };
            Generation generation = new Generation(params.stop(), maxTokens, text -> publish.accept(text, false),
                    () -> stopping || cancellations.contains(job.id()));
            if (params.think()) {
                generation.keepThinking(text -> publish.accept(text, true));
            }
            try {
                ChatOutcome out = chat.chat(sent, generation);
                if (stopping) {
                    return null;
                }
                if (generation.isCancelled()) {
                    return failed(job, Outcome.CANCELLED, JobError.of("cancelled", "cancelled while running"), queueMs, ms(start));
                }
                Usage usage = out.usage() != null ? out.usage()
                        : new Usage(TokenEstimate.of(sent.messages()), generation.tokens(), true);
                Long firstTokenMs = generation.firstTextNanos() == 0 ? null : (generation.firstTextNanos() - start) / 1_000_000;
                return JobResult.done(job, out.text(), out.finishReason(), usage, queueMs, ms(start), firstTokenMs, config.workerId())
                        .withDroppedMessages(fit.dropped()).withThinking(generation.thinking()).withWarnings(generation.warnings());
            } catch (EngineException e) {
                if (stopping) {
                    return null;
                }
                if (generation.isCancelled()) {
                    return failed(job, Outcome.CANCELLED, JobError.of("cancelled", "cancelled while running"), queueMs, ms(start));
                }
                if (!e.restartHelps()) {
                    String code = e.kind() == EngineException.Kind.CONTEXT_FULL ? JobError.CONTEXT_LENGTH_EXCEEDED : JobError.RUNTIME_ERROR;
                    return failed(job, Outcome.ERROR, JobError.of(code, e.getMessage()), queueMs, ms(start));
                }
                // Retried once on a fresh runtime, unless deltas already went out (a retry would repeat them).
                log.warn("job={} {}; restarting the runtime", job.id(), e.getMessage());
                if (e.kind() == EngineException.Kind.STALLED) {
                    status.strike("job " + job.id() + ": " + e.getMessage());
                }
                restart(e.getMessage());
                if (attempt > 0 || seq[0] > 0) {
                    return failed(job, Outcome.ERROR, JobError.of(JobError.RUNTIME_ERROR,
                            e.getMessage() + (attempt > 0 ? " (twice; the runtime was restarted each time)" : " mid-answer; the runtime was restarted")),
                            queueMs, ms(start));
                }
            }
        }
    }

    private JobResult runImage(Job job, Long queueMs) {
        ImageRuntime images = (ImageRuntime) runtime;
        replies.status(new JobStatus(job.id(), job.model(), JobState.RUNNING, config.workerId(), clock.instant()));
        long start = System.nanoTime();
        ImageRuntime.Progress progress = new ImageRuntime.Progress() {
            @Override
            public void step(int done, int total) {
                replies.status(new JobStatus(job.id(), job.model(), JobState.RUNNING, config.workerId(), clock.instant(), done, total));
            }

            @Override
            public boolean cancelled() {
                return stopping || cancellations.contains(job.id());
            }
        };
        for (int attempt = 0; ; attempt++) {
            if (!ensureRuntime(job)) {
                return stopping ? null : ended(job, queueMs, ms(start));
            }
            try {
                TaskOutput out = job.params() instanceof ImageParams p ? images.generate(p, progress)
                        : images.interrogate((InterrogateParams) job.params());
                return stopping ? null : JobResult.produced(job, out, queueMs, ms(start), config.workerId());
            } catch (CancellationException e) {
                return stopping ? null : failed(job, Outcome.CANCELLED, JobError.of("cancelled", "cancelled while running: " + e.getMessage()),
                        queueMs, ms(start));
            } catch (EngineException e) {
                if (stopping) {
                    return null;
                }
                if (!e.restartHelps()) {
                    return failed(job, Outcome.ERROR, JobError.invalid(job.task() == Task.INTERROGATE ? "params.image" : "params.init_image",
                            e.getMessage()), queueMs, ms(start));
                }
                log.warn("job={} {}; restarting the runtime", job.id(), e.getMessage());
                restart(e.getMessage());
                if (attempt > 0) {
                    return failed(job, Outcome.ERROR, JobError.of(JobError.RUNTIME_ERROR, e.getMessage() + " (twice; the runtime was restarted each time)"),
                            queueMs, ms(start));
                }
            }
        }
    }

    /** The answer for a job that ended before the runtime could take it. */
    private JobResult ended(Job job, Long queueMs, long runMs) {
        return cancellations.contains(job.id())
                ? failed(job, Outcome.CANCELLED, JobError.of("cancelled", "cancelled while the runtime was starting"), queueMs, runMs)
                : failed(job, Outcome.EXPIRED, JobError.of("expired", "expired while the runtime was starting"), queueMs, runMs);
    }

    private void restart(String why) {
        runtimeReady = false;
        if (card.cardDown()) {
            release(why + "; " + cardDownReason());
            return;
        }
        status.restarting(why);
        try {
            runtime.restart(why, config.loadTimeout());
            runtimeReady = true;
            startFailures = 0;
            status.ready(runtime);
        } catch (RuntimeStartException e) {
            log.error("runtime restart failed: {}", e.getMessage());
            status.restarting(e.getMessage());
            runtime.close();
        }
    }

    /**
     * Starts the runtime when it is not running, retrying with growing pauses. Returns false instead when
     * {@code pending} expires or is cancelled meanwhile, or the worker stops.
     */
    private boolean ensureRuntime(Job pending) {
        while (!runtimeReady && !stopping) {
            if (pending != null && gone(pending)) {
                return false;
            }
            if (card.cardDown()) {
                release(cardDownReason());
                if (!awaitCardNews()) {
                    return false;
                }
                continue;
            }
            Optional<String> shortfall = card.cmmShortfall(config.cmmMiB(), runtime.pids());
            status.loading();
            try {
                if (shortfall.isPresent()) {
                    throw new RuntimeStartException(shortfall.get());
                }
                runtime.start(config.loadTimeout());
                runtimeReady = true;
                startFailures = 0;
                status.ready(runtime);
            } catch (RuntimeStartException e) {
                startFailures++;
                Duration pause = Duration.ofSeconds(1L << Math.min(6, startFailures - 1));
                pause = pause.compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : pause;
                log.error("runtime did not start (attempt {}), next try in {}: {}", startFailures, pause, e.getMessage());
                status.restarting(e.getMessage());
                runtime.close();
                long until = System.nanoTime() + pause.toNanos();
                while (System.nanoTime() < until && !stopping && (pending == null || !gone(pending))) {
                    sleep(100);
                }
            }
        }
        return runtimeReady;
    }

    /** Publishes the result, waits for the broker to take it, then acknowledges the job. */
    private void complete(Mqtt5Publish p, String replyTo, byte[] correlation, JobResult r) {
        if (replyTo != null) {
            try {
                replies.result(replyTo, correlation, r).get();
            } catch (ExecutionException e) {
                log.error("job={} result not published ({}); the broker will deliver the job again", r.id(), e.getCause().toString());
                return;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        answered.add(r.id());
        acknowledge(p);
        replies.status(new JobStatus(r.id(), r.model(), JobState.of(r.outcome()), config.workerId(), clock.instant()));
        status.count(r);
        log.info("job={} model={} outcome={} queue_ms={} run_ms={} tokens={} finish={}{}{}", r.id(), r.model(), r.outcome().wire(),
                r.queueMs() == null ? "-" : r.queueMs(), r.runMs(),
                r.usage() == null ? "-" : r.usage().promptTokens() + "+" + r.usage().completionTokens() + (r.usage().estimated() ? "~" : ""),
                r.finishReason() == null ? "-" : r.finishReason().wire(),
                r.droppedMessages() == 0 ? "" : " dropped_messages=" + r.droppedMessages(),
                r.error() == null ? "" : " error=\"" + r.error().message() + "\"");
    }

    private JobResult failed(Job job, Outcome outcome, JobError error, Long queueMs, long runMs) {
        return JobResult.failed(job.id(), job.model(), outcome, error, queueMs, runMs, config.workerId());
    }

    private static long ms(long startNanos) {
        return (System.nanoTime() - startNanos) / 1_000_000;
    }

    private static byte[] bytes(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
