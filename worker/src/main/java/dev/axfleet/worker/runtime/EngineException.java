package dev.axfleet.worker.runtime;

/** Why a runtime could not answer. The job loop decides from the kind whether to restart and retry. */
public final class EngineException extends Exception {
    /** What went wrong, from the job loop's point of view. */
    public enum Kind {
        /** The runtime is down or died mid-answer (connection refused or cut). Restart, then retry. */
        UNAVAILABLE,
        /** The runtime stopped making progress. Restart, then retry. */
        STALLED,
        /** The runtime refused this request (bad input, prompt too long). The job fails; no restart. */
        REJECTED,
        /** The prompt does not fit the model's context. The job fails; no restart. */
        CONTEXT_FULL
    }

    private final Kind kind;
    private final String field;

    public EngineException(Kind kind, String message) {
        this(kind, message, (String) null);
    }

    /** A rejected input that a job field carries ({@code params.init_image}): the answer names that field. */
    public EngineException(Kind kind, String message, String field) {
        super(message);
        this.kind = kind;
        this.field = field;
    }

    public EngineException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
        this.field = null;
    }

    /** The job field whose value the runtime refused, or null. */
    public String field() {
        return field;
    }

    public Kind kind() {
        return kind;
    }

    /** True when a fresh runtime could answer the same request. */
    public boolean restartHelps() {
        return kind == Kind.UNAVAILABLE || kind == Kind.STALLED;
    }
}
