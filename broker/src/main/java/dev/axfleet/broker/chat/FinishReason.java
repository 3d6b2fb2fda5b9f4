package dev.axfleet.broker.chat;

import dev.axfleet.broker.WireName;

/** Why generation stopped: the model ended it or met a stop sequence, it hit the token limit, or it called tools. */
public enum FinishReason implements WireName {
    STOP, LENGTH, TOOL_CALLS
}
