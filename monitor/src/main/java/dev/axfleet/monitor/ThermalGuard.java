package dev.axfleet.monitor;

import dev.axfleet.broker.CardState;

/**
 * Hot and cool with hysteresis: a card becomes hot at {@code hotC} and stays hot until it is below
 * {@code resumeC}; between the two, a card that was not hot is warm. The manufacturer documents no
 * thresholds (only a self-reset at 120 °C: ../shared/axera.md §3, §8.1); 80/70 are the design documents'.
 */
final class ThermalGuard {
    private final double hotC;
    private final double resumeC;
    private boolean hot;

    /** @param resumeC below {@code hotC} (MonitorConfig checks it) */
    ThermalGuard(double hotC, double resumeC) {
        this.hotC = hotC;
        this.resumeC = resumeC;
    }

    /** The state for a card answering at {@code temperatureC} (null: unknown, judged ok). */
    CardState assess(Double temperatureC) {
        if (temperatureC == null) {
            return hot ? CardState.HOT : CardState.OK;
        }
        if (temperatureC >= hotC) {
            hot = true;
        } else if (temperatureC < resumeC) {
            hot = false;
        }
        if (hot) {
            return CardState.HOT;
        }
        return temperatureC >= resumeC ? CardState.WARM : CardState.OK;
    }
}
