package dev.axfleet.worker.runtime;

import dev.axfleet.broker.Usage;
import dev.axfleet.broker.chat.FinishReason;
import dev.axfleet.broker.chat.ToolCall;
import java.util.List;

/**
 * What a runtime answered: text, or the tools the model called.
 *
 * @param malformedToolCall a tool call the model wrote that could not be read (and why), or null
 */
public record ChatOutcome(String text, FinishReason finishReason, Usage usage, List<ToolCall> toolCalls, String malformedToolCall) {
    public ChatOutcome {
        toolCalls = toolCalls == null ? List.of() : List.copyOf(toolCalls);
    }

    public ChatOutcome(String text, FinishReason finishReason, Usage usage) {
        this(text, finishReason, usage, List.of(), null);
    }
}
