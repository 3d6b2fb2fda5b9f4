package dev.axfleet.broker.chat;

import dev.axfleet.broker.Kind;
import dev.axfleet.broker.TaskOutput;
import dev.axfleet.broker.Usage;
import java.util.List;
import java.util.Objects;

/**
 * A chat job's answer.
 *
 * @param firstTokenMs    from the start of the run to the runtime's first text (the prompt's prefill), or null
 * @param droppedMessages the oldest turns left out so the conversation fit the model's context (0: none)
 * @param thinking        the model's thinking before its answer, when the job asked for it; null otherwise
 * @param toolCalls       the tools the model called (finish reason {@code tool_calls}); empty otherwise
 */
public record ChatOutput(String text, FinishReason finishReason, Usage usage, Long firstTokenMs, int droppedMessages, String thinking,
                         List<ToolCall> toolCalls) implements TaskOutput {

    public ChatOutput {
        Objects.requireNonNull(text, "text");
        Objects.requireNonNull(finishReason, "finishReason");
        toolCalls = toolCalls == null ? List.of() : List.copyOf(toolCalls);
    }

    public ChatOutput(String text, FinishReason finishReason, Usage usage, Long firstTokenMs, int droppedMessages, String thinking) {
        this(text, finishReason, usage, firstTokenMs, droppedMessages, thinking, List.of());
    }

    public ChatOutput(String text, FinishReason finishReason, Usage usage) {
        this(text, finishReason, usage, null, 0, null);
    }

    @Override
    public Kind kind() {
        return Kind.CHAT;
    }

    @Override
    public String logLine() {
        return "tokens=" + (usage == null ? "-" : usage.promptTokens() + "+" + usage.completionTokens() + (usage.estimated() ? "~" : ""))
                + " finish=" + finishReason.wire() + (droppedMessages == 0 ? "" : " dropped_messages=" + droppedMessages)
                + (toolCalls.isEmpty() ? "" : " tool_calls=" + toolCalls.stream().map(ToolCall::name).toList());
    }
}
