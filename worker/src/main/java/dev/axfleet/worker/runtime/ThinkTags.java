package dev.axfleet.worker.runtime;

/**
 * Parts a runtime's text into the model's thinking and its answer. axllm serve returns Qwen3's thinking
 * inside the message content, between {@code <think>} and {@code </think>}, and adds either tag itself when
 * the model's text lacks it (AXERA-TECH/ax-llm:src/main.cpp@00d7aaf, {@code should_emit_thinking_markup},
 * {@code wrap_thinking_text_for_client}); in no-think mode the template's empty block can still come back.
 * Text inside the block goes to {@link Generation#acceptThinking}, the rest to {@link Generation#accept},
 * with the blank lines between them dropped. Tags split across pieces are held back until they are whole.
 */
final class ThinkTags {
    private static final String OPEN = "<think>";
    private static final String CLOSE = "</think>";

    private enum State { START, THINKING, AFTER, ANSWER }

    private final Generation generation;
    private final StringBuilder held = new StringBuilder();
    private State state = State.START;
    /** Tokens of pieces held back whole, counted with the next text passed on. */
    private int heldTokens;

    ThinkTags(Generation generation) {
        this.generation = generation;
    }

    /** One piece of the runtime's text, worth one token; false when the answer has ended. */
    boolean accept(String piece) {
        held.append(piece);
        int tokens = 1 + heldTokens;
        heldTokens = 0;
        while (true) {
            switch (state) {
                case START -> {
                    String s = stripLeading(held);
                    if (s.startsWith(OPEN)) {
                        held.setLength(0);
                        held.append(stripLeading(s.substring(OPEN.length())));
                        state = State.THINKING;
                        continue;
                    }
                    if (OPEN.startsWith(s)) {
                        heldTokens = tokens;
                        return true;
                    }
                    state = State.ANSWER;
                }
                case THINKING -> {
                    int close = held.indexOf(CLOSE);
                    if (close >= 0) {
                        String thought = held.substring(0, close);
                        String rest = held.substring(close + CLOSE.length());
                        held.setLength(0);
                        held.append(rest);
                        state = State.AFTER;
                        if (!generation.acceptThinking(thought, tokens)) {
                            return false;
                        }
                        tokens = 0;
                        continue;
                    }
                    int keep = partialSuffix(held, CLOSE);
                    String thought = held.substring(0, held.length() - keep);
                    held.delete(0, held.length() - keep);
                    return generation.acceptThinking(thought, tokens);
                }
                case AFTER -> {
                    String s = stripLeading(held);
                    held.setLength(0);
                    if (s.isEmpty()) {
                        return tokens == 0 || generation.acceptThinking("", tokens);
                    }
                    held.append(s);
                    state = State.ANSWER;
                }
                case ANSWER -> {
                    String s = held.toString();
                    held.setLength(0);
                    return generation.accept(s, tokens);
                }
            }
        }
    }

    /** The runtime finished: what was held back belongs to the part it was in. */
    void end() {
        if (held.isEmpty()) {
            return;
        }
        String rest = held.toString();
        held.setLength(0);
        if (state == State.THINKING) {
            generation.acceptThinking(rest, 0);
        } else if (state != State.AFTER && !rest.isBlank()) {
            generation.accept(rest, 0);
        }
    }

    private static String stripLeading(CharSequence s) {
        int i = 0;
        while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
            i++;
        }
        return s.subSequence(i, s.length()).toString();
    }

    /** How many characters at the end of {@code s} could begin {@code tag}. */
    private static int partialSuffix(CharSequence s, String tag) {
        for (int n = Math.min(tag.length() - 1, s.length()); n > 0; n--) {
            if (tag.startsWith(s.subSequence(s.length() - n, s.length()).toString())) {
                return n;
            }
        }
        return 0;
    }
}
