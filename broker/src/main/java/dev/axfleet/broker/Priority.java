package dev.axfleet.broker;

import java.util.Locale;
import java.util.Optional;

/**
 * How much a job matters against the others queued for its model. MQTT has none, so each priority is a topic of its own
 * ({@link Topics#jobs(String, Priority)}: {@code normal} is the plain job topic devices and the docs already use) and a
 * worker takes, when it is free, from the highest priority with a job waiting (docs/decisions.md, "Jobs that matter more").
 * Declared highest first.
 */
public enum Priority implements WireName {
    HIGH,
    NORMAL,
    LOW;

    /** The priority a client spelled (any case, surrounding blanks ignored), or empty when it names none of them. */
    public static Optional<Priority> parse(String value) {
        return value == null ? Optional.empty() : WireName.parse(Priority.class, value.trim().toLowerCase(Locale.ROOT));
    }

    /** Every priority's wire name, for error messages. */
    public static String known() {
        return String.join(", ", java.util.Arrays.stream(values()).map(Priority::wire).toList());
    }
}
