package dev.axfleet.broker;

import java.util.Objects;

/**
 * Why a job failed.
 *
 * @param field  the job field at fault, for {@link ErrorCode#INVALID_JOB} (and a rejected input); otherwise null
 * @param detail what the model last said, when that is the reason (its text that was not valid JSON, or a tool call
 *               that could not be read), so a client can still read it; otherwise null
 */
public record JobError(ErrorCode code, String message, String field, String detail) {
    public JobError {
        Objects.requireNonNull(code, "code");
    }

    public JobError(ErrorCode code, String message, String field) {
        this(code, message, field, null);
    }

    public static JobError invalid(String field, String message) {
        return new JobError(ErrorCode.INVALID_JOB, field + ": " + message, field);
    }

    public static JobError of(ErrorCode code, String message) {
        return new JobError(code, message, null);
    }
}
