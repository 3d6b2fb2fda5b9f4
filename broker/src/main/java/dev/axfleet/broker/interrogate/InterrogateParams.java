package dev.axfleet.broker.interrogate;

import dev.axfleet.broker.Task;
import dev.axfleet.broker.TaskParams;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What an interrogation job asks: tags for an image from the shipped vocabulary, or, with {@code categories},
 * the best term of each category (AUTOMATIC1111's {@code /sdapi/v1/interrogate} and the installations'
 * {@code /interrogate/structured}).
 *
 * @param image      base64 PNG or JPEG
 * @param categories category name to its candidate terms, in order; null for flat tagging
 */
public record InterrogateParams(String image, Map<String, List<String>> categories) implements TaskParams {
    public static final int MAX_CATEGORIES = 64;
    public static final int MAX_TERMS = 512;
    public static final int MAX_TERM_LENGTH = 200;

    public InterrogateParams {
        if (categories != null) {
            Map<String, List<String>> copy = new LinkedHashMap<>();
            categories.forEach((k, v) -> copy.put(k, List.copyOf(v)));
            categories = java.util.Collections.unmodifiableMap(copy);
        }
    }

    @Override
    public Task task() {
        return Task.INTERROGATE;
    }
}
