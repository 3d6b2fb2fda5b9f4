package dev.axfleet.broker.embed;

import dev.axfleet.broker.Range;
import dev.axfleet.broker.Task;
import dev.axfleet.broker.TaskParams;
import java.util.List;
import java.util.Objects;

/**
 * What an embedding job asks: one vector per input text.
 *
 * @param input      the texts, 1 to {@link #MAX_INPUTS}, each at most {@link #MAX_INPUT_CHARS} characters
 * @param dimensions the length each vector is cut to and normalised again (OpenAI's {@code dimensions}; axllm serve
 *                   ignores the field, so the worker does it), or null for the model's own
 * @param truncate   an input longer than the model's context is cut to fit (Ollama's default) rather than refused
 *                   (OpenAI's way)
 * @param format     how the result carries the vectors: JSON numbers, or base64 of little-endian float32 (OpenAI's
 *                   {@code encoding_format: "base64"}, a quarter of the bytes)
 */
public record EmbedParams(List<String> input, Integer dimensions, boolean truncate, Format format) implements TaskParams {
    /** OpenAI's limit per request. */
    public static final int MAX_INPUTS = 2048;
    /** About 16k tokens: well past any embedding model's context, far short of a megabyte. */
    public static final int MAX_INPUT_CHARS = 65_536;
    public static final Range DIMENSIONS = new Range(1, 65_536);

    /** How vectors travel in a result. */
    public enum Format implements dev.axfleet.broker.WireName {
        FLOAT, BASE64
    }

    public EmbedParams {
        input = List.copyOf(input);
        Objects.requireNonNull(format, "format");
        if (input.isEmpty() || input.size() > MAX_INPUTS) {
            throw new IllegalArgumentException("an embedding job has 1 to " + MAX_INPUTS + " inputs");
        }
        if (input.stream().anyMatch(s -> s.length() > MAX_INPUT_CHARS)) {
            throw new IllegalArgumentException("an input is longer than " + MAX_INPUT_CHARS + " characters");
        }
    }

    @Override
    public Task task() {
        return Task.EMBED;
    }
}
