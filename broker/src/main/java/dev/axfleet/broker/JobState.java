package dev.axfleet.broker;

/**
 * A job's life: {@code queued → running → (streaming) → done | error | expired | cancelled}. The broker
 * holds queued jobs; workers publish the rest on {@link Topics#status}.
 */
public enum JobState {
    RUNNING("running"),
    STREAMING("streaming"),
    DONE("done"),
    ERROR("error"),
    EXPIRED("expired"),
    CANCELLED("cancelled");

    private final String wire;

    JobState(String wire) {
        this.wire = wire;
    }

    public String wire() {
        return wire;
    }

    public static JobState of(Outcome outcome) {
        return switch (outcome) {
            case DONE -> DONE;
            case ERROR -> ERROR;
            case EXPIRED -> EXPIRED;
            case CANCELLED -> CANCELLED;
        };
    }
}
