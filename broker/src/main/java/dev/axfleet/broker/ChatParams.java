package dev.axfleet.broker;

import java.util.List;

/**
 * What a chat job asks of the model. Sampling fields are null when the caller did not set them, so each
 * runtime adapter can tell "not set" from a value and apply its own defaults.
 *
 * @param maxTokens upper bound on generated tokens; null means the worker's default
 * @param stop      sequences that end the answer; the answer never contains them
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
        Double repeatPenalty) implements TaskParams {

    public ChatParams {
        messages = List.copyOf(messages);
        stop = stop == null ? List.of() : List.copyOf(stop);
    }

    @Override
    public Task task() {
        return Task.CHAT;
    }
}
