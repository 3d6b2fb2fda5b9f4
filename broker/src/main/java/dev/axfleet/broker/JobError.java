package dev.axfleet.broker;

import java.util.Objects;

/**
 * Why a job failed.
 *
 * @param field the job field at fault, for {@link ErrorCode#INVALID_JOB} (and a rejected input); otherwise null
 */
public record JobError(ErrorCode code, String message, String field) {
    public JobError {
        Objects.requireNonNull(code, "code");
    }

    public static JobError invalid(String field, String message) {
        return new JobError(ErrorCode.INVALID_JOB, field + ": " + message, field);
    }

    public static JobError of(ErrorCode code, String message) {
        return new JobError(code, message, null);
    }
}
