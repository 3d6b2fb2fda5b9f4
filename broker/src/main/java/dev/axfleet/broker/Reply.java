package dev.axfleet.broker;

/** What a worker publishes to a job's reply topic: deltas while generating, then one result. */
public sealed interface Reply permits JobDelta, JobResult {
    String id();
}
