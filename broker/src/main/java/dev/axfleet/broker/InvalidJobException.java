package dev.axfleet.broker;

/**
 * A job that cannot be run, with what could still be read of it so the publisher gets an error result
 * naming the field instead of silence.
 */
public final class InvalidJobException extends Exception {
    private final JobError error;
    private final String jobId;
    private final String model;
    private final String replyTo;
    private final byte[] correlation;

    InvalidJobException(JobError error, String jobId, String model, String replyTo, byte[] correlation) {
        super(error.message());
        this.error = error;
        this.jobId = jobId;
        this.model = model;
        this.replyTo = replyTo;
        this.correlation = correlation;
    }

    public JobError error() {
        return error;
    }

    public String jobId() {
        return jobId;
    }

    public String model() {
        return model;
    }

    /** Where the error result can go, or null when the job named no usable reply topic. */
    public String replyTo() {
        return replyTo;
    }

    public byte[] correlation() {
        return correlation;
    }
}
