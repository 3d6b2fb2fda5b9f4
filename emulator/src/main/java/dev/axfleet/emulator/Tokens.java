package dev.axfleet.emulator;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The emulator's tokenizer: one token per word, number or punctuation mark, ids in Qwen's vocabulary
 * range. Real Qwen BPE gives different counts; the emulator only needs counts of the right order.
 */
final class Tokens {
    static final int VOCAB = 151_936;
    /** Chat-template tokens around each message ({@code <|im_start|>role\n ... <|im_end|>\n}). */
    static final int PER_MESSAGE = 4;
    private static final Pattern PIECE = Pattern.compile("[\\p{L}\\p{N}_]+|[^\\s\\p{L}\\p{N}_]");

    private Tokens() {
    }

    static List<Integer> ids(String text) {
        List<Integer> out = new ArrayList<>();
        Matcher m = PIECE.matcher(text);
        while (m.find()) {
            out.add(Math.floorMod(m.group().hashCode(), VOCAB));
        }
        return out;
    }

    static int count(String text) {
        int n = 0;
        Matcher m = PIECE.matcher(text);
        while (m.find()) {
            n++;
        }
        return n;
    }
}
