package dev.axfleet.monitor.probe;

import dev.axfleet.broker.CardReadings;
import java.util.List;

/**
 * What one probe of one card found.
 *
 * @param status   whether the card answered
 * @param readings what could be read (all null when the card did not answer)
 * @param detail   the tool's or library's own words when the card did not answer, else null
 * @param warnings output the parser did not recognise (the tool changed?), for the log
 */
public record DeviceHealth(Status status, CardReadings readings, String detail, List<String> warnings) {

    public DeviceHealth {
        readings = readings == null ? CardReadings.NONE : readings;
        warnings = warnings == null ? List.of() : List.copyOf(warnings);
    }

    /** How the card answered the probe. */
    public enum Status {
        /** The card answered; readings hold what could be read. */
        ANSWERING,
        /** The driver or the card is not there (e.g. {@code axcl init fail, ret = 0x8030010b}). */
        NOT_FOUND,
        /** The probe did not finish in time: the card (or its driver) stopped answering. */
        HUNG,
        /** The probe ran, but nothing in its output could be read. */
        UNREADABLE
    }

    public static DeviceHealth failed(Status status, String detail, List<String> warnings) {
        return new DeviceHealth(status, CardReadings.NONE, detail, warnings);
    }
}
