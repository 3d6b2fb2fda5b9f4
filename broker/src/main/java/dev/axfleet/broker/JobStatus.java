package dev.axfleet.broker;

import java.time.Instant;

/** One transition of a job, published on {@link Topics#status} for anyone watching. */
public record JobStatus(String id, String model, JobState state, String worker, Instant at) {
}
