package dev.axfleet.worker;

import dev.axfleet.broker.JobError;

/** A job that cannot be done as asked (too long for the context, a switch the model lacks): answered with its error. */
public final class JobFailure extends Exception {
    private final JobError error;

    public JobFailure(JobError error) {
        super(error.message());
        this.error = error;
    }

    public JobError error() {
        return error;
    }
}
