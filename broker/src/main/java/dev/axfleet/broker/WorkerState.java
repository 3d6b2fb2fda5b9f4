package dev.axfleet.broker;

import java.time.Instant;

/**
 * A worker's retained state on {@link Topics#workerState}. The broker publishes {@code offline} as the
 * worker's last will when its connection dies.
 *
 * @param runtime       which manufacturer runtime serves the model ({@code axllm-serve}, {@code main-api})
 * @param emulated      true when the runtime is axfleet's emulator, not the card
 * @param contextTokens the model's context length in tokens, or 0 when unknown
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
        String lastError,
        Instant since) {

    /** Where the worker is in its life. */
    public enum Phase {
        STARTING("starting"),
        LOADING("loading"),
        READY("ready"),
        RESTARTING("restarting"),
        STOPPING("stopping"),
        OFFLINE("offline");

        private final String wire;

        Phase(String wire) {
            this.wire = wire;
        }

        public String wire() {
            return wire;
        }

        public static Phase fromWire(String value) {
            for (Phase p : values()) {
                if (p.wire.equals(value)) {
                    return p;
                }
            }
            throw new IllegalArgumentException("unknown worker phase: " + value);
        }
    }

    public static WorkerState offline(String worker, String model) {
        return new WorkerState(worker, model, Phase.OFFLINE, null, false, 0, 0, 0, null, null);
    }

    public WorkerState with(Phase newPhase, Instant at) {
        return new WorkerState(worker, model, newPhase, runtime, emulated, contextTokens, jobsDone, jobsFailed, lastError, at);
    }
}
