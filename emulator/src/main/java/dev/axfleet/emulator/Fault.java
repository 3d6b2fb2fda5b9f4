package dev.axfleet.emulator;

import com.google.gson.JsonObject;
import java.util.Locale;

/**
 * A failure the emulated runtime will show, as the card's runtimes have been seen to fail
 * (../shared/axera.md §1.4, §8.2): busy, a hang mid-answer, a crash mid-answer, a full context, or the
 * legacy runtime's "llm is running" wedge.
 *
 * @param afterTokens how many tokens of the next answer come out before the fault strikes
 * @param times       how many requests the fault applies to before it clears itself
 */
public record Fault(Mode mode, int afterTokens, int times) {
    public static final Fault NONE = new Fault(Mode.NONE, 0, 0);

    /**
     * The kinds of failure. The last three are an emulated model's, for tests only (docs/hardware.md A18): its tool call
     * left in the text for the client to parse ({@code TOOL_TEXT}), left in the text broken ({@code TOOL_BROKEN}), and a
     * JSON answer that misses its schema ({@code BAD_JSON}).
     */
    public enum Mode { NONE, BUSY, HANG, CRASH, CONTEXT_FULL, WEDGE, TOOL_TEXT, TOOL_BROKEN, BAD_JSON }

    /** Parses {@code mode[:afterTokens[:times]]}, e.g. {@code crash:3} or {@code hang:0:2}. */
    public static Fault parse(String spec) {
        if (spec == null || spec.isBlank()) {
            return NONE;
        }
        String[] p = spec.trim().split(":");
        Mode mode = Mode.valueOf(p[0].toUpperCase(Locale.ROOT));
        int after = p.length > 1 ? Integer.parseInt(p[1]) : 0;
        int times = p.length > 2 ? Integer.parseInt(p[2]) : 1;
        return new Fault(mode, after, times);
    }

    static Fault fromJson(JsonObject o) {
        Mode mode = Mode.valueOf(o.get("mode").getAsString().toUpperCase(Locale.ROOT));
        int after = o.has("after_tokens") ? o.get("after_tokens").getAsInt() : 0;
        int times = o.has("times") ? o.get("times").getAsInt() : 1;
        return new Fault(mode, after, times);
    }
}
