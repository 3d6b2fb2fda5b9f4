package dev.axfleet.worker.runtime;

import dev.axfleet.broker.FinishReason;
import dev.axfleet.broker.Usage;

/** What a runtime answered. */
public record ChatOutcome(String text, FinishReason finishReason, Usage usage) {
}
