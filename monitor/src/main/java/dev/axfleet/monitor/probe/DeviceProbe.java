package dev.axfleet.monitor.probe;

/**
 * Reads one card's health without changing anything on it (../shared/axera.md §8.3: a probe with side
 * effects once stopped running generations). Implementations bound their own time and never throw for a
 * card that misbehaves: a missing or hung card is a {@link DeviceHealth.Status}, not an exception.
 */
public interface DeviceProbe extends AutoCloseable {

    /** Its name on the wire ({@code axcl-smi}, {@code libaxcl_rt}). */
    String name();

    /** Probes the card with index {@code card} ({@code axcl-smi -d N}). */
    DeviceHealth probe(int card);

    /** Whether this probe keeps the card open between probes (a card user: it blocks a driver reload). */
    boolean holdsCard();

    @Override
    default void close() {
    }
}
