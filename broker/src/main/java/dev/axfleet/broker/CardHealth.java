package dev.axfleet.broker;

import java.time.Instant;
import java.util.List;

/**
 * One card's health, retained on {@link Topics#card}. Fields the probe could not read are null, never guessed.
 *
 * @param deviceId     the AXCL device id (not the index), when the probe says it
 * @param temperatureC junction temperature in °C
 * @param probe        which probe measured it ({@code axcl-smi}, {@code libaxcl_rt})
 * @param emulated     true when the card is axfleet's emulated card
 * @param detail       what the probe said when it is not plainly healthy (an error line, a warning)
 * @param needsPerson  set when the recovery ladder has run out of steps: what a person should do
 */
public record CardHealth(
        CardRef card,
        CardState state,
        Integer deviceId,
        Double temperatureC,
        Long memoryUsedMiB,
        Long memoryTotalMiB,
        Long cmmUsedMiB,
        Long cmmTotalMiB,
        Integer cpuPercent,
        Integer npuPercent,
        List<CardProcess> processes,
        String probe,
        boolean emulated,
        String detail,
        String needsPerson,
        Instant at) {

    public CardHealth {
        processes = processes == null ? List.of() : List.copyOf(processes);
    }

    /** Free CMM in MiB, or null when unknown. */
    public Long cmmFreeMiB() {
        return cmmTotalMiB == null || cmmUsedMiB == null ? null : cmmTotalMiB - cmmUsedMiB;
    }

    public CardHealth withState(CardState state, String detail, String needsPerson) {
        return new CardHealth(card, state, deviceId, temperatureC, memoryUsedMiB, memoryTotalMiB, cmmUsedMiB, cmmTotalMiB, cpuPercent,
                npuPercent, processes, probe, emulated, detail, needsPerson, at);
    }
}
