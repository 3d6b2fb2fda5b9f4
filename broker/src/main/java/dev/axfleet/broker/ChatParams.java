package dev.axfleet.broker;

import java.util.List;

/**
 * What a chat job asks of the model. Sampling fields are null when the caller did not set them, so each
 * runtime adapter can tell "not set" from a value and apply its own defaults.
 *
 * @param maxTokens upper bound on generated tokens; null means the worker's default
 * @param stop      sequences that end the answer; the answer never contains them
 * @param think     whether the model may think before it answers (Qwen3's thinking mode); its thinking then
 *                  comes back apart from the answer, never inside it. Off unless asked for.
 */
public record ChatParams(
        List<ChatMessage> messages,
        Double temperature,
        Double topP,
        Integer topK,
        Integer maxTokens,
        List<String> stop,
        Long seed,
        Double presencePenalty,
        Double frequencyPenalty,
        Double repeatPenalty,
        boolean think) implements TaskParams {

    public ChatParams {
        messages = List.copyOf(messages);
        stop = stop == null ? List.of() : List.copyOf(stop);
    }

    @Override
    public Task task() {
        return Task.CHAT;
    }

    /** The same request with other messages (a conversation shortened to fit the context). */
    public ChatParams withMessages(List<ChatMessage> replacement) {
        return new ChatParams(replacement, temperature, topP, topK, maxTokens, stop, seed, presencePenalty, frequencyPenalty, repeatPenalty, think);
    }
}
