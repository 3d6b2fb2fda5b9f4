package dev.axfleet.broker;

/** How a job ended. Every job ends in exactly one of these, published once as a {@link JobResult}. */
public enum Outcome implements WireName {
    DONE, ERROR, EXPIRED, CANCELLED
}
