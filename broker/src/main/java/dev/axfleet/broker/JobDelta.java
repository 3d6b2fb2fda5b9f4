package dev.axfleet.broker;

/**
 * A piece of a streamed answer. Deltas of one job are published in order; {@code seq} starts at 0 and
 * lets a subscriber check that none is missing. The final {@link JobResult} carries the whole text.
 */
public record JobDelta(String id, int seq, String text) implements Reply {
}
