package dev.axfleet.broker;

import java.util.Arrays;
import java.util.Optional;

/** How a job ended. Every job ends in exactly one of these, published once as a {@link JobResult}. */
public enum Outcome {
    DONE("done"),
    ERROR("error"),
    EXPIRED("expired"),
    CANCELLED("cancelled");

    private final String wire;

    Outcome(String wire) {
        this.wire = wire;
    }

    public String wire() {
        return wire;
    }

    public static Optional<Outcome> fromWire(String value) {
        return Arrays.stream(values()).filter(o -> o.wire.equals(value)).findFirst();
    }
}
