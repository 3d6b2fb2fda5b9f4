package dev.axfleet.worker.chat;

import dev.axfleet.broker.chat.ChatMessage;
import dev.axfleet.worker.WorkerConfig;
import dev.axfleet.broker.chat.TokenEstimate;
import java.util.ArrayList;
import java.util.List;

/**
 * Makes a conversation fit the model's context before it reaches the runtime (the shipped Qwen3 builds hold
 * 2047 or 2559 tokens, answer included). The budget for the prompt is the context minus room for the answer
 * ({@code max_tokens}, at most half the context). Over budget, {@code truncate} drops the oldest turns after
 * the system messages, keeping at least the latest message; {@code reject} refuses. Token counts are
 * estimates ({@link TokenEstimate}); the runtime's own refusal still stands behind this.
 */
final class ContextFit {
    /**
     * @param messages what goes to the runtime
     * @param dropped  how many of the oldest messages were left out
     * @param refusal  why the conversation cannot fit, or null
     */
    record Result(List<ChatMessage> messages, int dropped, String refusal) {
    }

    private ContextFit() {
    }

    static Result fit(List<ChatMessage> messages, int contextTokens, int maxTokens, WorkerConfig.ContextOverflow overflow) {
        if (contextTokens <= 0) {
            return new Result(messages, 0, null);
        }
        int budget = contextTokens - Math.min(maxTokens, contextTokens / 2);
        int estimate = TokenEstimate.of(messages);
        if (estimate <= budget) {
            return new Result(messages, 0, null);
        }
        String tooLong = "the conversation is about " + estimate + " tokens; the model's context holds " + contextTokens
                + " with " + (contextTokens - budget) + " kept for the answer";
        if (overflow == WorkerConfig.ContextOverflow.REJECT) {
            return new Result(messages, 0, tooLong + " (worker.context_overflow=reject)");
        }
        int system = 0;
        while (system < messages.size() && messages.get(system).role().equals(ChatMessage.SYSTEM)) {
            system++;
        }
        List<ChatMessage> kept = new ArrayList<>(messages);
        int dropped = 0;
        // Drop whole turns from the front of the dialogue, so it still starts with a user message.
        while (kept.size() - system > 1 && (TokenEstimate.of(kept) > budget || !kept.get(system).role().equals(ChatMessage.USER))) {
            kept.remove(system);
            dropped++;
        }
        if (TokenEstimate.of(kept) > budget) {
            return new Result(messages, 0, tooLong + ", and the latest message alone does not fit");
        }
        return new Result(List.copyOf(kept), dropped, null);
    }
}
