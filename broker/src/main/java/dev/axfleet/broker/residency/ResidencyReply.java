package dev.axfleet.broker.residency;

import dev.axfleet.broker.WireName;
import java.time.Instant;

/**
 * A worker's answer to a {@link ResidencyRequest}, on the request's {@code reply_to}.
 *
 * @param loadMs  how long the load took (0 when the model was loaded already); with {@code loaded}
 * @param message what happened, in words (always with {@code refused}, {@code insufficient_memory} and {@code failed})
 */
public record ResidencyReply(String id, String model, String worker, Outcome outcome, long loadMs, String message, Instant at) {
    public enum Outcome implements WireName {
        /** The model is loaded (now, or it was already). */
        LOADED,
        /** The model is not loaded (now, or it was not). */
        UNLOADED,
        /** Not done by request: the model is pinned (models.pinned). */
        REFUSED,
        /** The model does not fit on the card even after unloading every idle, unpinned model; the message names what holds it. */
        INSUFFICIENT_MEMORY,
        /** The runtime did not start, or the request expired first. */
        FAILED
    }
}
