package dev.axfleet.broker.chat;

import com.google.gson.JsonObject;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A function the model may call, as OpenAI's {@code tools[].function} and Ollama's {@code tools[].function} describe it.
 *
 * @param parameters the JSON schema of its arguments (an object schema; empty: no arguments)
 */
public record Tool(String name, String description, JsonObject parameters) {
    /** OpenAI's rule for function names. */
    public static final Pattern NAME = Pattern.compile("[A-Za-z0-9_-]{1,64}");
    public static final int MAX_TOOLS = 64;
    public static final int MAX_DESCRIPTION = 4096;

    public Tool {
        Objects.requireNonNull(name, "name");
        if (!NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("a tool's name is 1 to 64 letters, digits, _ or -: " + name);
        }
        description = description == null ? "" : description;
        parameters = parameters == null ? new JsonObject() : parameters.deepCopy();
    }
}
