package dev.axfleet.gateway.voice;

import java.util.ArrayList;
import java.util.List;

/**
 * Cuts text that arrives a piece at a time into the phrases the speech model speaks one by one, so each can be spoken as
 * soon as it is whole. The cuts are the melotts unit's own (m5stack/StackFlow@20079ff main_melotts {@code is_breakpoint}:
 * after each of {@code ，、,。.!！?？;；}; docs/hardware.md F51), so a phrase sent alone costs the card what it costs inside a
 * longer text: the unit runs its encoder and decoder per phrase either way. A Latin mark counts only once whitespace
 * follows it (a delta may end at "3." of "3.5"); a full-width one at once; a line break always. A phrase is never
 * longer than {@code max} characters (cut at its last space then). With {@code firstWords}, the first phrase is cut
 * after that many words even without a mark, so the first audio comes sooner (a pause where the text has none).
 */
public final class Phrases {
    private final int max;
    private final int firstWords;
    private final StringBuilder pending = new StringBuilder();
    private int cut;

    public Phrases(int max) {
        this(max, 0);
    }

    /** @param firstWords words after which the first phrase is cut at the next space; 0: only at the unit's marks */
    public Phrases(int max, int firstWords) {
        this.max = max;
        this.firstWords = firstWords;
    }

    /** The phrases {@code text} completes, in order (perhaps none). */
    public List<String> add(String text) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < text.length(); ) {
            int cp = text.codePointAt(i);
            i += Character.charCount(cp);
            int before = pending.length();
            pending.appendCodePoint(cp);
            if (before > 0 && Character.isWhitespace(cp) && latinBreak(pending.codePointBefore(before))) {
                cut(out, before);
            } else if (cut == 0 && firstWords > 0 && before > 0 && Character.isWhitespace(cp) && !Character.isWhitespace(pending.codePointBefore(before))
                    && words(before) >= firstWords) {
                cut(out, before);
            } else if (cp == '\n' || wideBreak(cp)) {
                cut(out, pending.length());
            } else if (pending.length() >= max) {
                int space = pending.lastIndexOf(" ");
                cut(out, space > 0 ? space : pending.length());
            }
        }
        return out;
    }

    /** What is left once the text has all arrived (blank: nothing). */
    public String finish() {
        String rest = pending.toString().strip();
        pending.setLength(0);
        return rest;
    }

    private int words(int end) {
        String[] w = pending.substring(0, end).strip().split("\\s+");
        return w.length == 1 && w[0].isEmpty() ? 0 : w.length;
    }

    private void cut(List<String> out, int end) {
        String phrase = pending.substring(0, end).strip();
        pending.delete(0, end);
        if (!phrase.isEmpty() && phrase.codePoints().anyMatch(Character::isLetterOrDigit)) {
            out.add(phrase);
            cut++;
        } else if (!phrase.isEmpty() && !out.isEmpty()) {
            // Punctuation alone ("..." after a cut) belongs to the phrase before it.
            out.set(out.size() - 1, out.get(out.size() - 1) + phrase);
        }
    }

    static boolean latinBreak(int cp) {
        return cp == ',' || cp == '.' || cp == '!' || cp == '?' || cp == ';';
    }

    static boolean wideBreak(int cp) {
        return cp == '，' || cp == '、' || cp == '。' || cp == '！' || cp == '？' || cp == '；';
    }
}
