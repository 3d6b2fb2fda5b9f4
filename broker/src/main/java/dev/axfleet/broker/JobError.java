package dev.axfleet.broker;

/**
 * Why a job failed.
 *
 * @param code  a stable word: {@code invalid_job}, {@code runtime_error}, {@code runtime_unavailable},
 *              {@code context_length_exceeded}, {@code timeout}
 * @param field the job field at fault, for {@code invalid_job}; otherwise null
 */
public record JobError(String code, String message, String field) {
    public static final String INVALID_JOB = "invalid_job";
    public static final String RUNTIME_ERROR = "runtime_error";
    public static final String RUNTIME_UNAVAILABLE = "runtime_unavailable";
    public static final String CONTEXT_LENGTH_EXCEEDED = "context_length_exceeded";
    public static final String TIMEOUT = "timeout";

    public static JobError invalid(String field, String message) {
        return new JobError(INVALID_JOB, field + ": " + message, field);
    }

    public static JobError of(String code, String message) {
        return new JobError(code, message, null);
    }
}
