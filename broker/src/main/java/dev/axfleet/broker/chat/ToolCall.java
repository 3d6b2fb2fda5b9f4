package dev.axfleet.broker.chat;

import java.util.Objects;

/**
 * A call of one of the job's tools, as the model made it (or as a client replays it in the history).
 *
 * @param id        the call's id, which the {@code tool} message answering it names
 * @param arguments the arguments as JSON text (OpenAI carries a string; Ollama an object, written from this text)
 */
public record ToolCall(String id, String name, String arguments) {
    public ToolCall {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(arguments, "arguments");
    }
}
