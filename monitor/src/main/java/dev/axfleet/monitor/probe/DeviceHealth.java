package dev.axfleet.monitor.probe;

import dev.axfleet.broker.CardProcess;
import java.util.List;

/**
 * What one probe of one card found. Fields the probe could not read are null: an unknown value is never
 * reported as a number.
 *
 * @param status   whether the card answered
 * @param detail   the tool's or library's own words when the card did not answer, else null
 * @param warnings output the parser did not recognise (the tool changed?), for the log
 */
public record DeviceHealth(
        Status status,
        Integer deviceId,
        Double temperatureC,
        Long memoryUsedMiB,
        Long memoryTotalMiB,
        Long cmmUsedMiB,
        Long cmmTotalMiB,
        Integer cpuPercent,
        Integer npuPercent,
        List<CardProcess> processes,
        String detail,
        List<String> warnings) {

    public DeviceHealth {
        processes = processes == null ? List.of() : List.copyOf(processes);
        warnings = warnings == null ? List.of() : List.copyOf(warnings);
    }

    /** How the card answered the probe. */
    public enum Status {
        /** The card answered; fields hold what could be read. */
        ANSWERING,
        /** The driver or the card is not there (e.g. {@code axcl init fail, ret = 0x8030010b}). */
        NOT_FOUND,
        /** The probe did not finish in time: the card (or its driver) stopped answering. */
        HUNG,
        /** The probe ran, but nothing in its output could be read. */
        UNREADABLE
    }

    public static DeviceHealth failed(Status status, String detail, List<String> warnings) {
        return new DeviceHealth(status, null, null, null, null, null, null, null, null, List.of(), detail, warnings);
    }
}
