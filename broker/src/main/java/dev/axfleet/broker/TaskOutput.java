package dev.axfleet.broker;

import java.util.List;
import java.util.Map;

/** What a finished image or interrogation job produced, beside the common fields of its {@link JobResult}. */
public sealed interface TaskOutput permits TaskOutput.Images, TaskOutput.Interrogation {

    /**
     * Generated images.
     *
     * @param png  base64 PNGs (no {@code data:} prefix), at the requested size
     * @param seed the seed that was used (the one asked for, or the one the worker picked)
     * @param info JSON text saying what ran: steps, sampler, render and output size, seed, warnings
     */
    record Images(List<String> png, long seed, String info) implements TaskOutput {
        public Images {
            png = List.copyOf(png);
        }
    }

    /**
     * An image's tags, or with categories each category's winner.
     *
     * @param caption the best tags joined by ", " (flat tagging)
     * @param tags    the best tags with their cosine similarity, best first
     * @param winners per category, the winning term and its softmax confidence (structured)
     */
    record Interrogation(String caption, List<Tag> tags, Map<String, Winner> winners) implements TaskOutput {
        public Interrogation {
            tags = List.copyOf(tags);
            winners = winners == null ? Map.of() : java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(winners));
        }
    }

    record Tag(String tag, double score) {
    }

    record Winner(String winner, double confidence) {
    }
}
