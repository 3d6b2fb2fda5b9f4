package dev.axfleet.worker.runtime;

import dev.axfleet.broker.chat.FinishReason;
import dev.axfleet.broker.Usage;

/** What a runtime answered. */
public record ChatOutcome(String text, FinishReason finishReason, Usage usage) {
}
