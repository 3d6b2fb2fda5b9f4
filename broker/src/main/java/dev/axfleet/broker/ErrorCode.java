package dev.axfleet.broker;

/**
 * Why a job failed, as one word on the wire ({@code error.code}). The gateway's one table from code to each
 * facade's HTTP status is {@code ApiException.fromResult}.
 */
public enum ErrorCode implements WireName {
    /** A field of the job is wrong; {@link JobError#field()} names it. */
    INVALID_JOB,
    /** The runtime refused the input (an image it cannot read, a size it cannot render). */
    REJECTED,
    /** The conversation does not fit the model's context. */
    CONTEXT_LENGTH_EXCEEDED,
    /** The runtime failed while running the job. */
    RUNTIME_ERROR,
    /** The runtime could not be started. */
    RUNTIME_UNAVAILABLE,
    /**
     * Structured output: the model's answer was still not JSON valid against the job's schema after the retries;
     * {@link JobError#detail()} holds its last text.
     */
    JSON_VALIDATION_FAILED,
    /** The model called a tool in a form that could not be read (not JSON, an unknown tool); the detail holds its text. */
    TOOL_CALL_MALFORMED,
    /** The job took longer than its time limit. */
    TIMEOUT,
    CANCELLED,
    EXPIRED,
    /**
     * Answered before it ran: the worker's measured pace says it would end after its {@code expires_at} (what it would
     * have to wait for and its own shortest run), so nobody would read its answer; the message says when it would have
     * started and ended.
     */
    WOULD_NOT_FINISH,
    /**
     * The model does not fit in its card's memory even after unloading every idle model that is not pinned; the message
     * names what holds the memory.
     */
    INSUFFICIENT_MEMORY,
    /** Made by the gateway: the broker is out of reach. */
    BROKER_UNAVAILABLE,
    /** Made by the gateway: no worker subscribes to the model's jobs. */
    NO_WORKER,
    /** Made by the gateway: it stopped before the job was answered. */
    GATEWAY_STOPPING;

    /** The code spelled {@code wire}; an unknown word (a newer worker) reads as a runtime error. */
    public static ErrorCode of(String wire) {
        return WireName.parse(ErrorCode.class, wire).orElse(RUNTIME_ERROR);
    }
}
