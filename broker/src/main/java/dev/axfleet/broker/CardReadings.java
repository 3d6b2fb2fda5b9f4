package dev.axfleet.broker;

import java.util.List;

/**
 * What a probe read from a card. A value it could not read is null, never guessed.
 *
 * @param deviceId     the AXCL device id (not the index), when the probe says it
 * @param temperatureC junction temperature in °C
 * @param processes    the processes the card lists as its users
 */
public record CardReadings(
        Integer deviceId,
        Double temperatureC,
        Long memoryUsedMiB,
        Long memoryTotalMiB,
        Long cmmUsedMiB,
        Long cmmTotalMiB,
        Integer cpuPercent,
        Integer npuPercent,
        List<CardProcess> processes) {

    public static final CardReadings NONE = new CardReadings(null, null, null, null, null, null, null, null, List.of());

    public CardReadings {
        processes = processes == null ? List.of() : List.copyOf(processes);
    }

    /** Free CMM in MiB, or null when unknown. */
    public Long cmmFreeMiB() {
        return cmmTotalMiB == null || cmmUsedMiB == null ? null : cmmTotalMiB - cmmUsedMiB;
    }
}
