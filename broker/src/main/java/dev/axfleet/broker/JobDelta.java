package dev.axfleet.broker;

import dev.axfleet.broker.chat.ChatParams;

/**
 * A piece of a streamed answer. Deltas of one job are published in order; {@code seq} starts at 0 and
 * lets a subscriber check that none is missing. The final {@link JobResult} carries the whole text.
 *
 * @param thinking true for a piece of the model's thinking (asked for with {@link ChatParams#think()}),
 *                 false for a piece of the answer
 */
public record JobDelta(String id, int seq, String text, boolean thinking) implements Reply {
    public JobDelta(String id, int seq, String text) {
        this(id, seq, text, false);
    }
}
