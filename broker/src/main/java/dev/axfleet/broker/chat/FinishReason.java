package dev.axfleet.broker.chat;

import dev.axfleet.broker.WireName;

/** Why generation stopped: the model ended it or met a stop sequence, or it hit the token limit. */
public enum FinishReason implements WireName {
    STOP, LENGTH
}
