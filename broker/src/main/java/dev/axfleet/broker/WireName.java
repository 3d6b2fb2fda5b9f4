package dev.axfleet.broker;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;

/** An enum whose constants appear on the wire as their lower-case names ({@code DONE} is {@code "done"}). */
public interface WireName {
    String name();

    default String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The constant of {@code type} spelled {@code value} on the wire. */
    static <E extends Enum<E> & WireName> Optional<E> parse(Class<E> type, String value) {
        return Arrays.stream(type.getEnumConstants()).filter(e -> e.wire().equals(value)).findFirst();
    }
}
