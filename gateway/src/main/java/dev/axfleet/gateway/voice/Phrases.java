package dev.axfleet.gateway.voice;

import java.util.ArrayList;
import java.util.List;

/**
 * Cuts text that arrives a piece at a time into the phrases the speech model speaks one by one, so each can be spoken as
 * soon as it is whole. The cuts are the melotts unit's own (m5stack/StackFlow@20079ff main_melotts {@code is_breakpoint}:
 * after each of {@code ，、,。.!！?？;；}; docs/hardware.md F51), so a phrase sent alone costs the card what it costs inside a
 * longer text: the unit runs its encoder and decoder per phrase either way. A Latin mark counts only once whitespace
 * follows it (a delta may end at "3." of "3.5"); a full-width one at once; a line break always. A phrase is never
 * longer than {@code max} characters (cut at its last space then).
 */
public final class Phrases {
    private final int max;
    private final StringBuilder pending = new StringBuilder();

    public Phrases(int max) {
        this.max = max;
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

    private void cut(List<String> out, int end) {
        String phrase = pending.substring(0, end).strip();
        pending.delete(0, end);
        if (!phrase.isEmpty() && phrase.codePoints().anyMatch(Character::isLetterOrDigit)) {
            out.add(phrase);
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
