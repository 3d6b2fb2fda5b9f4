package dev.axfleet.broker.speech;

import java.util.List;
import java.util.Optional;

/**
 * OpenAI's voice names mapped onto a model's own voices, so OpenAI clients work unchanged: the names in the order the
 * openai SDKs list them (openai-node resources/audio/speech.ts {@code voice}), each to the model's voice at its index
 * modulo the model's count (a model with one voice speaks every name with it).
 */
public final class Voices {
    public static final List<String> OPENAI = List.of("alloy", "ash", "ballad", "coral", "echo", "fable", "onyx", "nova", "sage",
            "shimmer", "verse", "marin", "cedar");

    private Voices() {
    }

    /** The model's voice that {@code asked} means: its own name, or an OpenAI name mapped; empty when neither. */
    public static Optional<String> resolve(String asked, List<String> own) {
        if (own.isEmpty()) {
            return Optional.empty();
        }
        if (asked == null) {
            return Optional.of(own.get(0));
        }
        String name = asked.trim().toLowerCase(java.util.Locale.ROOT);
        for (String v : own) {
            if (v.equalsIgnoreCase(name)) {
                return Optional.of(v);
            }
        }
        int i = OPENAI.indexOf(name);
        return i < 0 ? Optional.empty() : Optional.of(own.get(i % own.size()));
    }

    /** The OpenAI names that mean {@code voice} among {@code own}. */
    public static List<String> openAiNamesOf(String voice, List<String> own) {
        return OPENAI.stream().filter(n -> resolve(n, own).map(voice::equals).orElse(false)).toList();
    }

    /** Every name {@link #resolve} takes, for an error message. */
    public static String known(List<String> own) {
        return String.join(", ", own) + (own.isEmpty() ? "" : " (and OpenAI's " + String.join(", ", OPENAI) + ")");
    }
}
