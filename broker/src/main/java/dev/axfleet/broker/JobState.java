package dev.axfleet.broker;

/**
 * A job's life: {@code queued → running → (streaming) → done | error | expired | cancelled}. The broker
 * holds queued jobs; workers publish the rest on {@link Topics#status}.
 */
public enum JobState implements WireName {
    RUNNING, STREAMING, DONE, ERROR, EXPIRED, CANCELLED;

    public static JobState of(Outcome outcome) {
        return switch (outcome) {
            case DONE -> DONE;
            case ERROR -> ERROR;
            case EXPIRED -> EXPIRED;
            case CANCELLED -> CANCELLED;
        };
    }
}
