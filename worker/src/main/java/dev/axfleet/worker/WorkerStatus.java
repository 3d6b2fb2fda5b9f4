package dev.axfleet.worker;

import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt5.Mqtt5AsyncClient;
import dev.axfleet.broker.JobResult;
import dev.axfleet.broker.Outcome;
import dev.axfleet.broker.Topics;
import dev.axfleet.broker.WireCodec;
import dev.axfleet.broker.WorkerState;
import dev.axfleet.broker.WorkerState.Phase;
import dev.axfleet.worker.runtime.ModelRuntime;
import java.time.Clock;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This worker's retained state on the bus: published at once when the phase changes, and at most once a
 * second when only the counters moved, so busy workers do not flood the broker.
 */
final class WorkerStatus {
    private static final Logger log = LoggerFactory.getLogger(WorkerStatus.class);

    private final Mqtt5AsyncClient client;
    private final String topic;
    private final Clock clock;
    private WorkerState state;
    private boolean dirty;

    /** The tasks are said from the start, so the gateway routes each kind of work here while the model still loads. */
    WorkerStatus(Mqtt5AsyncClient client, WorkerConfig config, ModelRuntime runtime, Clock clock) {
        this.client = client;
        this.topic = Topics.workerState(config.model(), config.workerId());
        this.clock = clock;
        this.state = new WorkerState(config.workerId(), config.model(), Phase.STARTING, runtime.kind(), false, 0, 0, 0, 0, null,
                clock.instant(), config.card(), null, java.util.List.of(), 0, runtime.tasks(), runtime.capabilities(), runtime.voices(), null);
    }

    /** What the broker publishes for this worker when its connection dies. */
    static byte[] offline(WorkerConfig config) {
        return WireCodec.encodeWorkerState(WorkerState.offline(config.workerId(), config.model(), config.card()));
    }

    void loading() {
        phase(Phase.LOADING, state.lastError());
    }

    void ready(ModelRuntime runtime) {
        synchronized (this) {
            state = state.withRuntime(runtime.kind(), runtime.emulated(), runtime.contextTokens(), runtime.pids())
                    .withTasks(runtime.tasks()).withVoices(runtime.voices()).withPhase(Phase.READY, state.lastError(), clock.instant());
        }
        publish();
    }

    void restarting(String why) {
        phase(Phase.RESTARTING, why);
    }

    /** The runtime was stopped because the card is lost or being reset. */
    void paused(String why) {
        synchronized (this) {
            state = state.withRuntime(state.runtime(), state.emulated(), state.contextTokens(), java.util.List.of());
        }
        phase(Phase.PAUSED, why);
    }

    /** The model is not on the card any more (or not yet): its runtime is stopped on purpose, its jobs load it again. */
    void unloaded(String why) {
        synchronized (this) {
            state = state.withRuntime(state.runtime(), state.emulated(), state.contextTokens(), java.util.List.of());
        }
        phase(Phase.UNLOADED, why);
    }

    /** Where the model stands on the card (footprint, pin, keep-alive); published at once when it changes. */
    void residence(dev.axfleet.broker.residency.Residence r) {
        synchronized (this) {
            if (java.util.Objects.equals(state.residence(), r)) {
                return;
            }
            state = state.withResidence(r);
        }
        publish();
    }

    /** What this worker last said about itself. */
    synchronized WorkerState current() {
        return state;
    }

    /** Why intake is held (null: taking jobs); published at once when it changes. */
    void held(String why) {
        synchronized (this) {
            if (java.util.Objects.equals(state.held(), why)) {
                return;
            }
            state = state.withHeld(why);
        }
        publish();
    }

    /**
     * How many jobs this worker holds; published at once when it starts or stops holding any (the other workers of the
     * model hand jobs to a free one), else with the counters.
     */
    void queued(int jobs) {
        boolean now;
        synchronized (this) {
            if (state.queued() == jobs) {
                return;
            }
            now = (state.queued() == 0) != (jobs == 0);
            state = state.withQueued(jobs);
            dirty = true;
        }
        if (now) {
            publish();
        }
    }

    /** A job ran past its time limit (the runtime stalled); the monitor counts these. */
    void strike(String why) {
        synchronized (this) {
            state = state.withCounts(state.jobsDone(), state.jobsFailed(), state.strikes() + 1, why);
        }
        publish();
    }

    void stopping() {
        phase(Phase.STOPPING, state.lastError());
    }

    synchronized void count(JobResult r) {
        boolean ok = r.outcome() == Outcome.DONE;
        state = state.withCounts(state.jobsDone() + (ok ? 1 : 0), state.jobsFailed() + (r.outcome() == Outcome.ERROR ? 1 : 0),
                state.strikes(), r.error() != null && r.outcome() == Outcome.ERROR ? r.error().message() : state.lastError());
        dirty = true;
    }

    /** Publishes when counters changed since the last publish; called once a second. */
    void flush() {
        boolean publish;
        synchronized (this) {
            publish = dirty;
        }
        if (publish) {
            publish();
        }
    }

    private void phase(Phase phase, String error) {
        synchronized (this) {
            if (state.phase() == phase && java.util.Objects.equals(state.lastError(), error)) {
                return;
            }
            state = state.withPhase(phase, error, clock.instant());
        }
        publish();
    }

    /**
     * Publishes the current state, retained; completes when the broker has it. The state is read and handed to the client
     * under one lock (the client only queues it): otherwise the once-a-second flush could read LOADING, be overtaken by the
     * job loop's READY, and send its stale LOADING last — the retained state a worker that is ready would then never correct.
     */
    CompletableFuture<?> publish() {
        CompletableFuture<?> sent;
        synchronized (this) {
            byte[] payload = WireCodec.encodeWorkerState(state);
            dirty = false;
            sent = client.publishWith().topic(topic).qos(MqttQos.AT_LEAST_ONCE).retain(true).payload(payload).send();
        }
        return sent
                .whenComplete((r, e) -> {
                    if (e != null) {
                        log.debug("worker state not published: {}", e.toString());
                    }
                });
    }
}
