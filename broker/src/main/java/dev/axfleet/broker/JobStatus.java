package dev.axfleet.broker;

import java.time.Instant;

/**
 * One transition of a job, published on {@link Topics#status} for anyone watching.
 *
 * @param step  image jobs while running: denoising steps done so far, else null
 * @param steps image jobs while running: the steps the job runs, else null
 */
public record JobStatus(String id, String model, JobState state, String worker, Instant at, Integer step, Integer steps) {

    public JobStatus(String id, String model, JobState state, String worker, Instant at) {
        this(id, model, state, worker, at, null, null);
    }
}
