package dev.axfleet.broker;

/** What the monitor makes of a card. */
public enum CardState implements WireName {
    /** Answering, below the warm threshold. */
    OK,
    /** Answering, between the resume and the hot threshold: no new action, but watch it. */
    WARM,
    /** At or above the hot threshold: workers take no new jobs until it cools below the resume threshold. */
    HOT,
    /** Not answering: not found, the probe failed or hung. */
    LOST,
    /** The monitor is resetting it; its runtimes are stopped. */
    RESETTING,
    /** The probe ran but its output could not be read; no action is taken on an unknown card. */
    UNKNOWN;

    /** Whether workers on this card should hold new jobs. */
    public boolean holdsIntake() {
        return this == HOT || this == LOST || this == RESETTING;
    }

    /** Whether the card cannot run anything now (the gateway answers 503 rather than queueing behind it). */
    public boolean down() {
        return this == LOST || this == RESETTING;
    }
}
