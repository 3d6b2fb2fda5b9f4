package dev.axfleet.broker;

/** What a worker publishes to a job's reply topic: deltas (text, or audio chunks) while generating, then one result. */
public sealed interface Reply permits JobDelta, AudioChunk, JobResult {
    String id();
}
