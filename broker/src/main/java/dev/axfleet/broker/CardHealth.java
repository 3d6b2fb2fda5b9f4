package dev.axfleet.broker;

import java.time.Instant;

/**
 * One card's health, retained on {@link Topics#card}: what the monitor makes of it and what the probe read.
 *
 * @param probe       which probe measured it ({@code axcl-smi}, {@code libaxcl_rt})
 * @param emulated    true when the card is axfleet's emulated card
 * @param detail      what the probe said when it is not plainly healthy (an error line, a warning)
 * @param needsPerson set when the recovery ladder has run out of steps: what a person should do
 */
public record CardHealth(
        CardRef card,
        CardState state,
        CardReadings readings,
        String probe,
        boolean emulated,
        String detail,
        String needsPerson,
        Instant at) {

    public CardHealth {
        readings = readings == null ? CardReadings.NONE : readings;
    }

    /** Whether this was said recently enough to act on at {@code now}: a monitor that went quiet is not believed. */
    public boolean freshAt(Instant now, java.time.Duration stale) {
        return at != null && !at.plus(stale).isBefore(now);
    }
}
