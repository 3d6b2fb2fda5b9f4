package dev.axfleet.broker;

/** The kind-specific part of a job: one record per kind, in the kind's package, with its own bounds. */
public interface TaskParams {
    Task task();

    default Kind kind() {
        return task().kind();
    }
}
