package dev.axfleet.broker.chat;

import java.util.List;

/**
 * Token counts when a runtime reports none (the legacy main_api): about four characters per token for
 * Qwen's tokenizer on English, plus the chat template's tokens per message. Results say "estimated".
 */
public final class TokenEstimate {
    private static final int PER_MESSAGE = 4;
    /**
     * An image's tokens: the most of the vision models measured (InternVL3-1B's encoder gives 256 at 448 px, M5 docs
     * internvl3; Qwen3-VL-2B 144 at 384 px, M5 docs qwen3_vl_2b), so a conversation estimated to fit does.
     */
    public static final int PER_IMAGE = 256;

    private TokenEstimate() {
    }

    public static int of(String text) {
        int chars = text.codePointCount(0, text.length());
        return chars == 0 ? 0 : Math.max(1, (chars + 3) / 4);
    }

    public static int of(List<ChatMessage> messages) {
        int n = 3;
        for (ChatMessage m : messages) {
            n += PER_MESSAGE + of(m.content()) + PER_IMAGE * m.images().size();
        }
        return n;
    }
}
