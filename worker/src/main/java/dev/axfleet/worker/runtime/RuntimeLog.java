package dev.axfleet.worker.runtime;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a runtime tells about itself in its log: its context length ({@code max_token_len : N}, printed by
 * the manufacturer's runtimes at start; M5 docs qwen3_1.7b) and whether it is axfleet's emulator (which
 * starts its log with {@code EMULATOR:}).
 */
final class RuntimeLog {
    private static final Pattern MAX_TOKEN_LEN = Pattern.compile("max_token_len\\s*:\\s*(\\d+)");

    private volatile boolean emulated;
    private volatile int contextTokens;

    /** Reads one line of a runtime process's output. */
    void line(String line) {
        if (line.startsWith("EMULATOR:")) {
            emulated = true;
        }
        Matcher m = MAX_TOKEN_LEN.matcher(line);
        if (m.find()) {
            contextTokens = Integer.parseInt(m.group(1));
        }
    }

    /** Also true when the runtime said so another way (its model list). */
    void markEmulated() {
        emulated = true;
    }

    boolean emulated() {
        return emulated;
    }

    int contextTokens() {
        return contextTokens;
    }
}
