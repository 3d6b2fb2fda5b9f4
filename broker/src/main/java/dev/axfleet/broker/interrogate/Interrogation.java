package dev.axfleet.broker.interrogate;

import dev.axfleet.broker.Kind;
import dev.axfleet.broker.TaskOutput;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An image's tags, or with categories each category's winner.
 *
 * @param caption the best tags joined by ", " (flat tagging)
 * @param tags    the best tags with their cosine similarity, best first
 * @param winners per category, the winning term and its softmax confidence (structured)
 */
public record Interrogation(String caption, List<Tag> tags, Map<String, Winner> winners) implements TaskOutput {
    public Interrogation {
        tags = List.copyOf(tags);
        winners = winners == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(winners));
    }

    @Override
    public Kind kind() {
        return Kind.INTERROGATION;
    }

    @Override
    public String logLine() {
        return "tags=" + tags.size() + (winners.isEmpty() ? "" : " categories=" + winners.size());
    }

    public record Tag(String tag, double score) {
    }

    public record Winner(String winner, double confidence) {
    }
}
