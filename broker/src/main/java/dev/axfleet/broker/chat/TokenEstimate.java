package dev.axfleet.broker.chat;

import java.util.List;

/**
 * Token counts when a runtime reports none (the legacy main_api): about four characters per token for
 * Qwen's tokenizer on English, plus the chat template's tokens per message. Results say "estimated".
 */
public final class TokenEstimate {
    private static final int PER_MESSAGE = 4;

    private TokenEstimate() {
    }

    public static int of(String text) {
        int chars = text.codePointCount(0, text.length());
        return chars == 0 ? 0 : Math.max(1, (chars + 3) / 4);
    }

    public static int of(List<ChatMessage> messages) {
        int n = 3;
        for (ChatMessage m : messages) {
            n += PER_MESSAGE + of(m.content());
        }
        return n;
    }
}
