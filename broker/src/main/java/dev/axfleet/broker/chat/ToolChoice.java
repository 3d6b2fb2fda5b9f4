package dev.axfleet.broker.chat;

import dev.axfleet.broker.WireName;
import java.util.Objects;

/**
 * Whether the model may, must, or must not call a tool, or must call one named (OpenAI's {@code tool_choice}; axllm
 * serve's docs/tool_calling.md@0c74c77 takes the same four forms, as a prompt-level instruction).
 *
 * @param name the tool a {@link Mode#FUNCTION} choice names; null otherwise
 */
public record ToolChoice(Mode mode, String name) {
    public static final ToolChoice AUTO = new ToolChoice(Mode.AUTO, null);

    public enum Mode implements WireName {
        AUTO, NONE, REQUIRED, FUNCTION
    }

    public ToolChoice {
        Objects.requireNonNull(mode, "mode");
        if ((mode == Mode.FUNCTION) != (name != null)) {
            throw new IllegalArgumentException("a function choice names its tool, and only it does");
        }
    }

    public static ToolChoice function(String name) {
        return new ToolChoice(Mode.FUNCTION, name);
    }
}
