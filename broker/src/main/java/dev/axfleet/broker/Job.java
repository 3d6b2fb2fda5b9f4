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
 * @param keepAlive   how long the model stays loaded after this job (Ollama's keep_alive), or null: as the worker keeps it
 */
public record Job(
        String id,
        String model,
        TaskParams params,
        String replyTo,
        byte[] correlation,
        Instant createdAt,
        Instant expiresAt,
        boolean stream,
        dev.axfleet.broker.residency.KeepAlive keepAlive) {

    /** A job that says nothing about how long its model stays loaded. */
    public Job(String id, String model, TaskParams params, String replyTo, byte[] correlation, Instant createdAt, Instant expiresAt,
               boolean stream) {
        this(id, model, params, replyTo, correlation, createdAt, expiresAt, stream, null);
    }

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
