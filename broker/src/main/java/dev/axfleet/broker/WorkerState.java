package dev.axfleet.broker;

import java.time.Instant;
import java.util.List;

/**
 * A worker's retained state on {@link Topics#workerState}. The broker publishes {@code offline} as the
 * worker's last will when its connection dies.
 *
 * @param runtime       which manufacturer runtime serves the model ({@code axllm-serve}, {@code main-api})
 * @param emulated      true when the runtime is axfleet's emulator, not the card
 * @param contextTokens the model's context length in tokens, or 0 when unknown
 * @param strikes       jobs that ran past their time limit (the runtime stalled or hung) since the worker started
 * @param card          the card the worker's runtime uses, or null when not known
 * @param held          why the worker takes no jobs right now (card hot, lost, resetting), or null when it takes them
 * @param runtimePids   the runtime's processes, so the monitor can tell a worker's runtime from a stray
 * @param queued        jobs the broker handed to this worker that are not answered yet (0 or 1: Receive Maximum 1)
 * @param tasks         the tasks its model takes, so the gateway routes each kind of work to a model that does it
 * @param capabilities  what its model takes beyond plain text (images, tools)
 * @param residence     its model's footprint, pin and keep-alive on the card, or null when the worker says none
 * @param voices        a speech model's own voices (what OpenAI's voice names map onto); empty for other kinds
 */
public record WorkerState(
        String worker,
        String model,
        Phase phase,
        String runtime,
        boolean emulated,
        int contextTokens,
        long jobsDone,
        long jobsFailed,
        long strikes,
        String lastError,
        Instant since,
        CardRef card,
        String held,
        List<Long> runtimePids,
        int queued,
        java.util.Set<Task> tasks,
        java.util.Set<Capability> capabilities,
        List<String> voices,
        dev.axfleet.broker.residency.Residence residence) {

    /** A state that says nothing about capabilities, voices or residency (as workers before them wrote theirs). */
    public WorkerState(String worker, String model, Phase phase, String runtime, boolean emulated, int contextTokens, long jobsDone,
                       long jobsFailed, long strikes, String lastError, Instant since, CardRef card, String held, List<Long> runtimePids,
                       int queued, java.util.Set<Task> tasks) {
        this(worker, model, phase, runtime, emulated, contextTokens, jobsDone, jobsFailed, strikes, lastError, since, card, held, runtimePids,
                queued, tasks, null, null, null);
    }

    public WorkerState {
        voices = voices == null ? List.of() : List.copyOf(voices);
        runtimePids = runtimePids == null ? List.of() : List.copyOf(runtimePids);
        tasks = tasks == null || tasks.isEmpty() ? java.util.Set.of() : java.util.Collections.unmodifiableSet(java.util.EnumSet.copyOf(tasks));
        capabilities = capabilities == null || capabilities.isEmpty() ? java.util.Set.of()
                : java.util.Collections.unmodifiableSet(java.util.EnumSet.copyOf(capabilities));
    }

    /** The kinds of work its model does. */
    public java.util.Set<Kind> kinds() {
        java.util.Set<Kind> out = java.util.EnumSet.noneOf(Kind.class);
        tasks.forEach(t -> out.add(t.kind()));
        return out;
    }

    /** Where the worker is in its life. */
    public enum Phase implements WireName {
        STARTING, LOADING, READY, RESTARTING,
        /** The runtime was stopped on purpose because its card is lost or being reset; it starts again when the card is back. */
        PAUSED,
        /**
         * The model is not on the card (unloaded on request, by its keep-alive, to make room for another, or not preloaded):
         * the worker still takes its jobs, and the first one loads it again.
         */
        UNLOADED,
        STOPPING, OFFLINE
    }

    /** Whether the model holds (or is taking) card memory in this phase. */
    public boolean holdsCard() {
        return switch (phase) {
            case STARTING, LOADING, READY, RESTARTING -> true;
            case PAUSED, UNLOADED, STOPPING, OFFLINE -> false;
        };
    }

    public static WorkerState offline(String worker, String model, CardRef card) {
        return new WorkerState(worker, model, Phase.OFFLINE, null, false, 0, 0, 0, 0, null, null, card, null, List.of(), 0, null, null, null, null);
    }

    public WorkerState withPhase(Phase phase, String lastError, Instant since) {
        return new WorkerState(worker, model, phase, runtime, emulated, contextTokens, jobsDone, jobsFailed, strikes, lastError, since,
                card, held, runtimePids, queued, tasks, capabilities, voices, residence);
    }

    public WorkerState withRuntime(String runtime, boolean emulated, int contextTokens, List<Long> runtimePids) {
        return new WorkerState(worker, model, phase, runtime, emulated, contextTokens, jobsDone, jobsFailed, strikes, lastError, since,
                card, held, runtimePids, queued, tasks, capabilities, voices, residence);
    }

    public WorkerState withCounts(long jobsDone, long jobsFailed, long strikes, String lastError) {
        return new WorkerState(worker, model, phase, runtime, emulated, contextTokens, jobsDone, jobsFailed, strikes, lastError, since,
                card, held, runtimePids, queued, tasks, capabilities, voices, residence);
    }

    public WorkerState withHeld(String held) {
        return new WorkerState(worker, model, phase, runtime, emulated, contextTokens, jobsDone, jobsFailed, strikes, lastError, since,
                card, held, runtimePids, queued, tasks, capabilities, voices, residence);
    }

    public WorkerState withTasks(java.util.Set<Task> tasks) {
        return new WorkerState(worker, model, phase, runtime, emulated, contextTokens, jobsDone, jobsFailed, strikes, lastError, since,
                card, held, runtimePids, queued, tasks, capabilities, voices, residence);
    }

    public WorkerState withResidence(dev.axfleet.broker.residency.Residence residence) {
        return new WorkerState(worker, model, phase, runtime, emulated, contextTokens, jobsDone, jobsFailed, strikes, lastError, since,
                card, held, runtimePids, queued, tasks, capabilities, voices, residence);
    }

    public WorkerState withVoices(List<String> voices) {
        return new WorkerState(worker, model, phase, runtime, emulated, contextTokens, jobsDone, jobsFailed, strikes, lastError, since,
                card, held, runtimePids, queued, tasks, capabilities, voices, residence);
    }

    public WorkerState withQueued(int queued) {
        return new WorkerState(worker, model, phase, runtime, emulated, contextTokens, jobsDone, jobsFailed, strikes, lastError, since,
                card, held, runtimePids, queued, tasks, capabilities, voices, residence);
    }
}
