package dev.axfleet.broker;

/** What a finished job produced: one record per kind, in the kind's package, carried by its {@link JobResult}. */
public interface TaskOutput {
    Kind kind();
}
