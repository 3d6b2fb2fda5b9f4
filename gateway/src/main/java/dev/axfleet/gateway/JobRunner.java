package dev.axfleet.gateway;

import dev.axfleet.broker.AudioChunk;
import dev.axfleet.broker.JobDelta;
import dev.axfleet.broker.JobResult;
import dev.axfleet.broker.Capability;
import dev.axfleet.broker.Kind;
import dev.axfleet.broker.Outcome;
import dev.axfleet.broker.Reply;
import dev.axfleet.broker.TaskParams;
import dev.axfleet.broker.chat.ChatOutput;
import dev.axfleet.broker.chat.ChatParams;
import dev.axfleet.broker.residency.KeepAlive;
import dev.axfleet.gateway.bus.Bus;
import dev.axfleet.gateway.bus.Submission;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one job for one HTTP request, the same way for every facade and every kind of work: refuses at once when the
 * broker is away or the model's queue is full (nothing queued, retry welcome), waits for the answer up to the request
 * timeout, and cancels the job when the caller gives up or goes away. {@link #callShared} lets identical requests
 * share one job; {@link #callAlone} and {@link #stream} never share.
 */
public final class JobRunner {
    private static final Logger log = LoggerFactory.getLogger(JobRunner.class);
    /** How often a waiting request looks whether its client is still there. */
    private static final Duration PROBE = Duration.ofMillis(500);

    private final Bus bus;
    private final ModelRegistry registry;
    private final GatewayConfig config;
    private final Metrics metrics;
    private final SameRequests same;

    public JobRunner(Bus bus, ModelRegistry registry, GatewayConfig config, Metrics metrics) {
        this.bus = bus;
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

    /** Where streamed audio goes (a speech job's); an IOException means the caller has gone. */
    public interface AudioSink {
        void audio(byte[] bytes) throws IOException;

        /** Called when nothing arrived for the keep-alive interval. */
        default void idle() throws IOException {
        }

        /** Whether the client closed its connection while nothing was written (see {@link Caller}). */
        default boolean gone() {
            return false;
        }
    }

    /** This gateway's image jobs still waiting for their answer (AUTOMATIC1111's /progress and /interrupt). */
    public java.util.List<Submission> imageJobs() {
        return bus.imageJobs();
    }

    /**
     * The model a client's name means for {@code kind} (or alias, with or without {@code :latest}); 404 naming the
     * models there are, or 400 when the name is a model that does other work.
     */
    public String model(Kind kind, String requested) throws ApiException {
        ModelRegistry.Resolution r = registry.resolve(kind, requested);
        if (r instanceof ModelRegistry.Found f) {
            return f.model();
        }
        if (r instanceof ModelRegistry.WrongKind w) {
            throw ApiException.wrongKind(w.model(), kind, w.kinds(), registry.modelsOf(kind));
        }
        throw ApiException.modelNotFound(String.valueOf(requested), registry.names());
    }

    /**
     * The chat model {@code requested} names, refusing at once what its workers said it does not take (images for a
     * text model), before the job waits in its queue. A model no worker has announced yet is left to its worker.
     */
    public String chatModel(String requested, ChatParams params) throws ApiException {
        String model = model(Kind.CHAT, requested);
        refuseUnread(model, params);
        return model;
    }

    /** As {@link #chatModel}, for a model already resolved. */
    public void refuseUnread(String model, ChatParams params) throws ApiException {
        if (params != null && params.imageCount() > 0 && registry.lacks(model, Capability.VISION)) {
            List<String> vision = registry.modelsWith(Capability.VISION);
            throw ApiException.badRequest("messages", "model '" + model + "' takes no images: it is a text model; vision models here: "
                    + (vision.isEmpty() ? "none" : String.join(", ", vision)));
        }
        if (params != null && !params.tools().isEmpty() && params.toolChoice().mode() != dev.axfleet.broker.chat.ToolChoice.Mode.NONE
                && registry.lacks(model, Capability.TOOLS)) {
            List<String> tools = registry.modelsWith(Capability.TOOLS);
            throw ApiException.badRequest("tools", "model '" + model + "' takes no tools: its runtime renders tools only for the Qwen3 "
                    + "family and MiniCPM-V-4.6, and it would answer as if none were given; models here that take tools: "
                    + (tools.isEmpty() ? "none" : String.join(", ", tools)));
        }
    }

    /** The model that serves {@code kind} when a request names none (AUTOMATIC1111's loaded checkpoint), or 404. */
    public String defaultModel(Kind kind) throws ApiException {
        return registry.modelsOf(kind).stream().findFirst().orElseThrow(() -> new ApiException(404, "no " + kind.wire()
                + " model here; models here: " + String.join(", ", registry.names()), "model", "model_not_found", Map.of()));
    }

    /**
     * Runs the job of HTTP request {@code req} and waits for its result; a job that did not end with an answer is an
     * ApiException. An identical request already waiting shares its job ({@link SameRequests}).
     */
    public JobResult callShared(String model, TaskParams params, spark.Request req) throws ApiException {
        return callShared(model, params, req, 0);
    }

    /** As {@link #callShared(String, TaskParams, spark.Request)} for job {@code part} of a request that runs several. */
    public JobResult callShared(String model, TaskParams params, spark.Request req, int part) throws ApiException {
        return callShared(model, params, req, part, null);
    }

    /** As {@link #callShared(String, TaskParams, spark.Request)}, saying how long the model stays loaded after it (Ollama's keep_alive). */
    public JobResult callShared(String model, TaskParams params, spark.Request req, int part, KeepAlive keepAlive) throws ApiException {
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
            return awaitOther(other, me, model, requestLog);
        }
        try {
            Submission s = submit(model, params, false, requestLog, keepAlive);
            mine.jobId = s.id();
            JobResult r = awaitResult(s, model, () -> {
                me.gone();
                return mine.abandoned();
            }, timeout(requestLog));
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

    /** Runs a job and waits for its result, telling {@code submitted} its submission; never shared with another request. */
    public JobResult callAlone(String model, TaskParams params, RequestLog requestLog, Consumer<Submission> submitted) throws ApiException {
        Submission s = submit(model, params, false, requestLog);
        submitted.accept(s);
        return awaitResult(s, model, () -> false, timeout(requestLog));
    }

    /** One step of a wait: a value when there is one, null to wait on. */
    private interface Step<T> {
        T within(Duration wait) throws ApiException, IOException, InterruptedException, ExecutionException;
    }

    /**
     * The one deadline-and-probe loop every wait runs: asks {@code step} for up to {@link #PROBE} at a time until it
     * has a value or the request timeout passes (then {@code onTimeout}, and a 504).
     */
    private <T> T await(Step<T> step, Runnable onTimeout, Duration timeout) throws ApiException, IOException, InterruptedException,
            ExecutionException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                onTimeout.run();
                throw ApiException.timeout(timeout);
            }
            T t = step.within(Duration.ofNanos(Math.min(left, PROBE.toNanos())));
            if (t != null) {
                return t;
            }
        }
    }

    /** A request waiting for the job of an identical one. */
    private JobResult awaitOther(SameRequests.Shared other, SameRequests.Waiter me, String model, RequestLog requestLog) throws ApiException {
        requestLog.job(other.jobId, model);
        try {
            JobResult r = await(wait -> {
                try {
                    return other.result.get(wait.toNanos(), TimeUnit.NANOSECONDS);
                } catch (TimeoutException e) {
                    if (me.gone()) {
                        throw ApiException.clientGone();
                    }
                    return null;
                }
            }, () -> { }, timeout(requestLog));
            log.info("job={} also answered an identical request that arrived while it waited or ran", r.id());
            requestLog.job(r.id(), model);
            return r;
        } catch (ExecutionException e) {
            if (e.getCause() instanceof ApiException a) {
                throw a;
            }
            throw new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw ApiException.timeout(timeout(requestLog));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } finally {
            me.leave();
        }
    }

    /**
     * Waits for the result of {@code s}, asking every {@link #PROBE} whether the job is {@code abandoned} (every client
     * that asked for it has gone): then the workers drop it, queued or running.
     */
    private JobResult awaitResult(Submission s, String model, java.util.function.BooleanSupplier abandoned, Duration timeout) throws ApiException {
        try {
            return finish(model, await(wait -> {
                Reply r = s.next(wait);
                if (r instanceof JobResult result) {
                    return result;
                }
                if (abandoned.getAsBoolean()) {
                    log.info("job={} dropped: every client that asked for it has gone", s.id());
                    s.cancel();
                    throw ApiException.clientGone();
                }
                return null;
            }, s::cancel, timeout));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            s.cancel();
            throw ApiException.timeout(timeout);
        } catch (IOException | ExecutionException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Runs a chat job with streaming and passes its text to {@code sink} in order. Returns the result, or null
     * when the caller went away (the job is then cancelled).
     */
    public JobResult stream(String model, ChatParams params, StreamSink sink, RequestLog requestLog) throws ApiException {
        return stream(model, params, sink, requestLog, s -> log.debug("job={} submitted", s.id()));
    }

    /** As {@link #stream(String, ChatParams, StreamSink, RequestLog)}, telling {@code submitted} the job's submission. */
    public JobResult stream(String model, ChatParams params, StreamSink sink, RequestLog requestLog, Consumer<Submission> submitted)
            throws ApiException {
        return stream(model, params, sink, requestLog, submitted, null);
    }

    /** As {@link #stream(String, ChatParams, StreamSink, RequestLog)}, saying how long the model stays loaded after it. */
    public JobResult stream(String model, ChatParams params, StreamSink sink, RequestLog requestLog, KeepAlive keepAlive) throws ApiException {
        return stream(model, params, sink, requestLog, s -> log.debug("job={} submitted", s.id()), keepAlive);
    }

    private JobResult stream(String model, ChatParams params, StreamSink sink, RequestLog requestLog, Consumer<Submission> submitted,
                             KeepAlive keepAlive) throws ApiException {
        Submission s = submit(model, params, true, requestLog, keepAlive);
        submitted.accept(s);
        StringBuilder sent = new StringBuilder();
        return streamed(s, model, timeout(requestLog), new Listener() {
            @Override
            public void piece(Reply r) throws IOException {
                if (r instanceof JobDelta d && d.thinking()) {
                    sink.thinking(d.text());
                } else if (r instanceof JobDelta d) {
                    sent.append(d.text());
                    sink.delta(d.text());
                }
            }

            @Override
            public void idle() throws IOException {
                sink.idle();
            }

            @Override
            public boolean gone() {
                return sink.gone();
            }
        }, result -> {
            if (result.outcome() == Outcome.DONE) {
                String text = result.chat().text();
                if (text.length() > sent.length() && text.startsWith(sent.toString())) {
                    // A delta went missing on the way: the result has the whole text, send what is left.
                    sink.delta(text.substring(sent.length()));
                }
            }
        });
    }

    /**
     * Runs a job with streaming whose answer is audio (a speech job) and passes its pieces to {@code sink} in order.
     * Returns the result, or null when the caller went away (the job is then cancelled).
     */
    public JobResult streamAudio(String model, TaskParams params, AudioSink sink, RequestLog requestLog) throws ApiException {
        return streamAudio(model, params, sink, requestLog, s -> log.debug("job={} submitted", s.id()));
    }

    /** As {@link #streamAudio(String, TaskParams, AudioSink, RequestLog)}, telling {@code submitted} the job's submission. */
    public JobResult streamAudio(String model, TaskParams params, AudioSink sink, RequestLog requestLog, Consumer<Submission> submitted)
            throws ApiException {
        Submission s = submit(model, params, true, requestLog);
        submitted.accept(s);
        return streamed(s, model, timeout(requestLog), new Listener() {
            @Override
            public void piece(Reply r) throws IOException {
                if (r instanceof AudioChunk c) {
                    sink.audio(c.audio());
                }
            }

            @Override
            public void idle() throws IOException {
                sink.idle();
            }

            @Override
            public boolean gone() {
                return sink.gone();
            }
        }, result -> { });
    }

    /** Where a streamed job's pieces go (text deltas or audio), whether its caller left, and a keep-alive when it is quiet. */
    private interface Listener {
        void piece(Reply piece) throws IOException;

        void idle() throws IOException;

        boolean gone();
    }

    /** What is done with a streamed job's result before it is returned. */
    private interface Last {
        void accept(JobResult result) throws IOException;
    }

    /**
     * The one loop of every streamed job: its pieces to {@code listener} in order (a gap in their numbers logged), a
     * keep-alive when nothing came for {@code gateway.keep_alive}, the job cancelled when the caller went away (then null).
     */
    private JobResult streamed(Submission s, String model, Duration timeout, Listener listener, Last last) throws ApiException {
        int[] expectedSeq = {0};
        long[] lastSent = {System.nanoTime()};
        try {
            JobResult result = await(wait -> {
                Reply r = s.next(wait);
                if (r == null) {
                    if (listener.gone()) {
                        throw new IOException("the client closed the connection");
                    }
                    if (System.nanoTime() - lastSent[0] >= config.keepAlive().toNanos()) {
                        listener.idle();
                        lastSent[0] = System.nanoTime();
                    }
                    return null;
                }
                lastSent[0] = System.nanoTime();
                if (r instanceof JobResult done) {
                    return done;
                }
                int seq = r instanceof JobDelta d ? d.seq() : ((AudioChunk) r).seq();
                if (seq != expectedSeq[0]) {
                    log.warn("job={} piece {} arrived where {} was expected", s.id(), seq, expectedSeq[0]);
                }
                expectedSeq[0] = seq + 1;
                listener.piece(r);
                return null;
            }, s::cancel, timeout);
            last.accept(result);
            return finish(model, result);
        } catch (IOException e) {
            log.info("job={} caller went away ({}); cancelling the job", s.id(), e.getMessage());
            s.cancel();
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            s.cancel();
            return null;
        } catch (ExecutionException e) {
            throw new IllegalStateException(e);
        }
    }

    private Submission submit(String model, TaskParams params, boolean stream, RequestLog requestLog) throws ApiException {
        return submit(model, params, stream, requestLog, null);
    }

    private Submission submit(String model, TaskParams params, boolean stream, RequestLog requestLog, KeepAlive keepAlive) throws ApiException {
        if (!bus.accepting()) {
            throw ApiException.busy("the gateway is stopping; try again shortly", 5);
        }
        if (!bus.connected()) {
            throw ApiException.busy("the MQTT broker is not reachable; try again shortly", 5);
        }
        java.util.Optional<String> down = registry.cardsDown(model);
        if (down.isPresent()) {
            throw ApiException.busy(model + " cannot run now: " + down.get() + "; the monitor is recovering it", 30);
        }
        if (bus.pending(model) >= config.maxPendingPerModel()) {
            throw ApiException.busy("server busy: " + bus.pending(model) + " jobs for " + model
                    + " are already waiting (gateway.max_pending_per_model)", 5);
        }
        Submission s = bus.submit(model, params, stream, timeout(requestLog), keepAlive, requestLog.urgency().priority());
        requestLog.job(s.id(), model);
        return s;
    }

    /** How long this request's caller waits for its answer: its own timeout when it said one, at most the gateway's. */
    private Duration timeout(RequestLog requestLog) throws ApiException {
        return requestLog.urgency().timeout(config.requestTimeout());
    }

    /**
     * Headers that tell a caller what the worker did to its request: {@code X-Axfleet-Dropped-Messages} when
     * the oldest turns were left out to fit the model's context (worker.context_overflow=truncate).
     */
    public static Map<String, String> resultHeaders(JobResult r) {
        int dropped = r.output() instanceof ChatOutput c ? c.droppedMessages() : 0;
        return dropped > 0 ? Map.of("X-Axfleet-Dropped-Messages", String.valueOf(dropped)) : Map.of();
    }

    private JobResult finish(String model, JobResult result) throws ApiException {
        metrics.job(model, result);
        if (result.outcome() != Outcome.DONE) {
            throw ApiException.fromResult(result);
        }
        return result;
    }
}
