package dev.axfleet.broker;

import java.util.Arrays;
import java.util.Optional;

/** Why generation stopped: the model ended it or met a stop sequence, or it hit the token limit. */
public enum FinishReason {
    STOP("stop"),
    LENGTH("length");

    private final String wire;

    FinishReason(String wire) {
        this.wire = wire;
    }

    public String wire() {
        return wire;
    }

    public static Optional<FinishReason> fromWire(String value) {
        return Arrays.stream(values()).filter(f -> f.wire.equals(value)).findFirst();
    }
}
