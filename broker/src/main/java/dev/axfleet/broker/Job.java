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
 * @param priority    how much it matters against the model's other jobs: the job topic it is published on, not a field
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
        dev.axfleet.broker.residency.KeepAlive keepAlive,
        Priority priority) {

    /** A job that says nothing about how long its model stays loaded. */
    public Job(String id, String model, TaskParams params, String replyTo, byte[] correlation, Instant createdAt, Instant expiresAt,
               boolean stream) {
        this(id, model, params, replyTo, correlation, createdAt, expiresAt, stream, null);
    }

    /** A job of priority normal. */
    public Job(String id, String model, TaskParams params, String replyTo, byte[] correlation, Instant createdAt, Instant expiresAt,
               boolean stream, dev.axfleet.broker.residency.KeepAlive keepAlive) {
        this(id, model, params, replyTo, correlation, createdAt, expiresAt, stream, keepAlive, Priority.NORMAL);
    }

    public Job {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(params, "params");
        Objects.requireNonNull(replyTo, "replyTo");
        Objects.requireNonNull(priority, "priority");
    }

    /** The same job with another priority (it goes to that priority's topic). */
    public Job withPriority(Priority p) {
        return new Job(id, model, params, replyTo, correlation, createdAt, expiresAt, stream, keepAlive, p);
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
