package dev.axfleet.broker;

import java.util.Arrays;
import java.util.Optional;

/** What a job asks a worker to do. Image tasks join this set with the image worker. */
public enum Task {
    CHAT("chat");

    private final String wire;

    Task(String wire) {
        this.wire = wire;
    }

    public String wire() {
        return wire;
    }

    public static Optional<Task> fromWire(String value) {
        return Arrays.stream(values()).filter(t -> t.wire.equals(value)).findFirst();
    }
}
