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
    public enum Phase implements WireName {
        STARTING, LOADING, READY, RESTARTING, STOPPING, OFFLINE
    }

    public static WorkerState offline(String worker, String model) {
        return new WorkerState(worker, model, Phase.OFFLINE, null, false, 0, 0, 0, null, null);
    }
}
