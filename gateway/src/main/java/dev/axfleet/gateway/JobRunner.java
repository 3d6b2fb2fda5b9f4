package dev.axfleet.gateway;

import dev.axfleet.broker.chat.ChatParams;
import dev.axfleet.broker.JobDelta;
import dev.axfleet.broker.JobResult;
import dev.axfleet.broker.Outcome;
import dev.axfleet.broker.Reply;
import dev.axfleet.broker.TaskParams;
import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one job for one HTTP request, the same way for every facade: refuses at once when the broker is
 * away or the model's queue is full (nothing queued, retry welcome), waits for the answer up to the
 * request timeout, and cancels the job when the caller gives up or goes away.
 */
public final class JobRunner {
    private static final Logger log = LoggerFactory.getLogger(JobRunner.class);
    /** How often a waiting request looks whether its client is still there. */
    private static final Duration PROBE = Duration.ofMillis(500);

    private final JobClient client;
    private final ModelRegistry registry;
    private final GatewayConfig config;
    private final Metrics metrics;
    private final SameRequests same;

    public JobRunner(JobClient client, ModelRegistry registry, GatewayConfig config, Metrics metrics) {
        this.client = client;
        this.registry = registry;
        this.config = config;
        this.metrics = metrics;
        this.same = new SameRequests(config.imageReuse());
    }

    /** Where streamed text goes; an IOException means the caller has gone. */
    public interface StreamSink {
        void delta(String text) throws IOException;

        /** A piece of the model's thinking, when the request asked for it. */
        void thinking(String text) throws IOException;

        /** Called when nothing arrived for the keep-alive interval. */
        void idle() throws IOException;

        /** Whether the client closed its connection while nothing was written (see {@link Caller}). */
        default boolean gone() {
            return false;
        }
    }

    /** This gateway's image jobs still waiting for their answer (AUTOMATIC1111's /progress and /interrupt). */
    public java.util.List<Submission> imageJobs() {
        return client.imageJobs();
    }

    /** The requested model (or alias) as the bus knows it, or 404 naming the models there are. */
    public String model(String requested) throws ApiException {
        return registry.resolve(requested).orElseThrow(() -> ApiException.modelNotFound(String.valueOf(requested), registry.names()));
    }

    /**
     * Runs the job of HTTP request {@code req} and waits for its result; a job that did not end with an answer is an
     * ApiException. An identical request already waiting shares its job ({@link SameRequests}).
     */
    public JobResult call(String model, TaskParams params, spark.Request req) throws ApiException {
        return call(model, params, req, 0);
    }

    /** As {@link #call(String, TaskParams, spark.Request)} for job {@code part} of a request that runs several. */
    public JobResult call(String model, TaskParams params, spark.Request req, int part) throws ApiException {
        String key = SameRequests.key(req, model, params, part);
        RequestLog requestLog = RequestLog.of(req);
        JobResult kept = same.kept(key);
        if (kept != null) {
            log.info("job={} answers an identical request again", kept.id());
            requestLog.job(kept.id(), model);
            return kept;
        }
        SameRequests.Shared mine = new SameRequests.Shared();
        SameRequests.Shared other = same.attach(key, mine);
        SameRequests.Waiter me = new SameRequests.Waiter(other != null ? other : mine, Caller.of(req));
        if (other != null) {
            return await(other, me, model, requestLog);
        }
        try {
            Submission s = submit(model, params, false, requestLog);
            mine.jobId = s.id();
            JobResult r = await(s, model, () -> {
                me.gone();
                return mine.abandoned();
            });
            me.gone();
            mine.result.complete(r);
            same.keep(key, r, SameRequests.reusable(req, params), mine);
            return r;
        } catch (ApiException e) {
            mine.result.completeExceptionally(e);
            throw e;
        } finally {
            same.done(key, mine);
        }
    }

    /** A request waiting for the job of an identical one. */
    private JobResult await(SameRequests.Shared other, SameRequests.Waiter me, String model, RequestLog requestLog) throws ApiException {
        requestLog.job(other.jobId, model);
        long deadline = System.nanoTime() + config.requestTimeout().toNanos();
        try {
            while (true) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw ApiException.timeout(config.requestTimeout());
                }
                try {
                    JobResult r = other.result.get(Math.min(left, PROBE.toNanos()), TimeUnit.NANOSECONDS);
                    log.info("job={} also answered an identical request that arrived while it waited or ran", r.id());
                    requestLog.job(r.id(), model);
                    return r;
                } catch (TimeoutException e) {
                    if (me.gone()) {
                        throw ApiException.clientGone();
                    }
                }
            }
        } catch (ExecutionException e) {
            if (e.getCause() instanceof ApiException a) {
                throw a;
            }
            throw new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw ApiException.timeout(config.requestTimeout());
        } finally {
            me.leave();
        }
    }

    /** Runs a job and waits for its result, telling {@code submitted} its submission; never shared with another request. */
    public JobResult call(String model, TaskParams params, RequestLog requestLog, java.util.function.Consumer<Submission> submitted)
            throws ApiException {
        Submission s = submit(model, params, false, requestLog);
        submitted.accept(s);
        return await(s, model, () -> false);
    }

    /**
     * Waits for the result of {@code s} up to the request timeout, asking every {@link #PROBE} whether the job is
     * {@code abandoned} (every client that asked for it has gone): then the workers drop it, queued or running.
     */
    private JobResult await(Submission s, String model, BooleanSupplier abandoned) throws ApiException {
        long deadline = System.nanoTime() + config.requestTimeout().toNanos();
        try {
            while (true) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    s.cancel();
                    throw ApiException.timeout(config.requestTimeout());
                }
                Reply r = s.next(Duration.ofNanos(Math.min(left, PROBE.toNanos())));
                if (r instanceof JobResult result) {
                    return finish(model, result);
                }
                if (abandoned.getAsBoolean()) {
                    log.info("job={} dropped: every client that asked for it has gone", s.id());
                    s.cancel();
                    throw ApiException.clientGone();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            s.cancel();
            throw ApiException.timeout(config.requestTimeout());
        }
    }

    /**
     * Runs a job with streaming and passes its text to {@code sink} in order. Returns the result, or null
     * when the caller went away (the job is then cancelled).
     */
    public JobResult stream(String model, ChatParams params, StreamSink sink, RequestLog requestLog) throws ApiException {
        return stream(model, params, sink, requestLog, s -> log.debug("job={} submitted", s.id()));
    }

    /** As {@link #stream(String, ChatParams, StreamSink, RequestLog)}, telling {@code submitted} the job's submission. */
    public JobResult stream(String model, ChatParams params, StreamSink sink, RequestLog requestLog,
            java.util.function.Consumer<Submission> submitted) throws ApiException {
        Submission s = submit(model, params, true, requestLog);
        submitted.accept(s);
        long deadline = System.nanoTime() + config.requestTimeout().toNanos();
        StringBuilder sent = new StringBuilder();
        int expectedSeq = 0;
        long lastSent = System.nanoTime();
        try {
            while (true) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    s.cancel();
                    throw ApiException.timeout(config.requestTimeout());
                }
                Reply r = s.next(Duration.ofNanos(Math.min(left, PROBE.toNanos())));
                if (r == null) {
                    if (sink.gone()) {
                        throw new IOException("the client closed the connection");
                    }
                    if (System.nanoTime() - lastSent >= config.keepAlive().toNanos()) {
                        sink.idle();
                        lastSent = System.nanoTime();
                    }
                    continue;
                }
                lastSent = System.nanoTime();
                if (r instanceof JobDelta d) {
                    if (d.seq() != expectedSeq) {
                        log.warn("job={} delta {} arrived where {} was expected", s.id(), d.seq(), expectedSeq);
                    }
                    expectedSeq = d.seq() + 1;
                    if (d.thinking()) {
                        sink.thinking(d.text());
                    } else {
                        sent.append(d.text());
                        sink.delta(d.text());
                    }
                } else {
                    JobResult result = (JobResult) r;
                    if (result.outcome() == Outcome.DONE && result.text().length() > sent.length()
                            && result.text().startsWith(sent.toString())) {
                        // A delta went missing on the way: the result has the whole text, send what is left.
                        sink.delta(result.text().substring(sent.length()));
                    }
                    return finish(model, result);
                }
            }
        } catch (IOException e) {
            log.info("job={} caller went away ({}); cancelling the job", s.id(), e.getMessage());
            s.cancel();
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            s.cancel();
            return null;
        }
    }

    private Submission submit(String model, TaskParams params, boolean stream, RequestLog requestLog) throws ApiException {
        if (!client.accepting()) {
            throw ApiException.busy("the gateway is stopping; try again shortly", 5);
        }
        if (!client.connected()) {
            throw ApiException.busy("the MQTT broker is not reachable; try again shortly", 5);
        }
        java.util.Optional<String> down = registry.cardsDown(model);
        if (down.isPresent()) {
            throw ApiException.busy(model + " cannot run now: " + down.get() + "; the monitor is recovering it", 30);
        }
        if (client.pending(model) >= config.maxPendingPerModel()) {
            throw ApiException.busy("server busy: " + client.pending(model) + " jobs for " + model
                    + " are already waiting (gateway.max_pending_per_model)", 5);
        }
        Submission s = client.submit(model, params, stream, config.requestTimeout());
        requestLog.job(s.id(), model);
        return s;
    }

    /**
     * Headers that tell a caller what the worker did to its request: {@code X-Axfleet-Dropped-Messages} when
     * the oldest turns were left out to fit the model's context (worker.context_overflow=truncate).
     */
    public static Map<String, String> resultHeaders(JobResult r) {
        return r.droppedMessages() > 0 ? Map.of("X-Axfleet-Dropped-Messages", String.valueOf(r.droppedMessages())) : Map.of();
    }

    private JobResult finish(String model, JobResult result) throws ApiException {
        metrics.job(model, result);
        if (result.outcome() != Outcome.DONE) {
            throw ApiException.fromResult(result);
        }
        return result;
    }
}
