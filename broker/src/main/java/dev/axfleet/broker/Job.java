package dev.axfleet.broker;

import java.time.Instant;
import java.util.Objects;

/**
 * A unit of work on the bus: one request to one model, answered once on {@link #replyTo()}.
 *
 * @param id          unique per job; results and deltas carry it
 * @param replyTo     where deltas and the result go
 * @param correlation MQTT 5 correlation data to echo on every reply, or null
 * @param createdAt   when the publisher made the job, or null when it has no clock (microcontrollers)
 * @param expiresAt   after this instant the job is answered "expired" instead of run, or null for never
 * @param stream      whether the worker publishes deltas before the result
 */
public record Job(
        String id,
        String model,
        TaskParams params,
        String replyTo,
        byte[] correlation,
        Instant createdAt,
        Instant expiresAt,
        boolean stream) {

    public Job {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(params, "params");
        Objects.requireNonNull(replyTo, "replyTo");
    }

    public Task task() {
        return params.task();
    }

    public Kind kind() {
        return params.kind();
    }

    public boolean isExpired(Instant now) {
        return expiresAt != null && !now.isBefore(expiresAt);
    }
}
