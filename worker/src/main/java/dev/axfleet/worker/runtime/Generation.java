package dev.axfleet.worker.runtime;

import dev.axfleet.broker.chat.FinishReason;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * One answer as it is generated: takes the runtime's pieces of text, ends the answer at a stop sequence
 * or the token limit, and passes on only text that can no longer turn out to be part of a stop sequence.
 * Engines call {@link #accept} for each piece and stop asking the runtime as soon as it returns false.
 */
public final class Generation {
    private final List<String> stops;
    private final int maxTokens;
    private final Consumer<String> deltas;
    private final BooleanSupplier cancelled;
    private final int holdBack;
    private final StringBuilder text = new StringBuilder();
    private final StringBuilder thinking = new StringBuilder();
    private Consumer<String> thoughts;
    private int emitted;
    private int tokens;
    private long firstTextNanos;
    private boolean ended;
    private FinishReason finish = FinishReason.STOP;
    private final List<String> warnings = new java.util.ArrayList<>();

    /**
     * @param deltas    receives the answer in order, in pieces that never contain a stop sequence
     * @param cancelled polled before each piece; when true the answer ends
     */
    public Generation(List<String> stops, int maxTokens, Consumer<String> deltas, BooleanSupplier cancelled) {
        this.stops = stops;
        this.maxTokens = maxTokens;
        this.deltas = deltas;
        this.cancelled = cancelled;
        this.holdBack = stops.stream().mapToInt(String::length).max().orElse(1) - 1;
    }

    public int maxTokens() {
        return maxTokens;
    }

    /**
     * Keeps the model's thinking and passes it to {@code thinkingDeltas} as it comes; without this call
     * thinking text is dropped (its tokens still count against the limit).
     */
    public Generation keepThinking(Consumer<String> thinkingDeltas) {
        this.thoughts = thinkingDeltas;
        return this;
    }

    /**
     * Adds a piece of the model's thinking worth {@code pieceTokens} tokens; stop sequences apply to the
     * answer only.
     *
     * @return whether the runtime should go on generating
     */
    public boolean acceptThinking(String piece, int pieceTokens) {
        if (ended) {
            return false;
        }
        if (cancelled.getAsBoolean()) {
            ended = true;
            return false;
        }
        if (firstTextNanos == 0 && !piece.isEmpty()) {
            firstTextNanos = System.nanoTime();
        }
        tokens += pieceTokens;
        if (thoughts != null && !piece.isEmpty()) {
            thinking.append(piece);
            thoughts.accept(piece);
        }
        if (tokens >= maxTokens) {
            finish = FinishReason.LENGTH;
            end();
            return false;
        }
        return true;
    }

    /** The model's thinking when it was kept and there was some, else null. */
    public String thinking() {
        String t = thinking.toString().strip();
        return thoughts == null || t.isEmpty() ? null : t;
    }

    /**
     * Adds a piece of generated text worth {@code pieceTokens} tokens.
     *
     * @return whether the runtime should go on generating
     */
    public boolean accept(String piece, int pieceTokens) {
        if (ended) {
            return false;
        }
        if (cancelled.getAsBoolean()) {
            ended = true;
            return false;
        }
        if (tokens + pieceTokens > maxTokens && pieceTokens > 0) {
            // A runtime that hands over several tokens at once (the legacy one, between polls) overshoots the
            // limit: keep the share of the piece that fits.
            int keep = (int) ((long) piece.length() * (maxTokens - tokens) / pieceTokens);
            if (keep > 0 && Character.isHighSurrogate(piece.charAt(keep - 1))) {
                keep--;
            }
            piece = piece.substring(0, keep);
            pieceTokens = maxTokens - tokens;
        }
        if (firstTextNanos == 0 && !piece.isEmpty()) {
            firstTextNanos = System.nanoTime();
        }
        text.append(piece);
        tokens += pieceTokens;
        int stopAt = firstStop();
        if (stopAt >= 0) {
            text.setLength(stopAt);
            finish = FinishReason.STOP;
            end();
            return false;
        }
        if (tokens >= maxTokens) {
            finish = FinishReason.LENGTH;
            end();
            return false;
        }
        emit(Math.max(emitted, text.length() - holdBack));
        return true;
    }

    /** The runtime finished by itself: pass on what was held back. */
    public void end() {
        if (!ended) {
            ended = true;
            emit(text.length());
        }
    }

    /** The runtime finished because it reached {@code reportedTokens}; at the limit that is a length stop. */
    public void endWithRuntimeCount(int reportedTokens) {
        if (!ended && reportedTokens >= maxTokens) {
            finish = FinishReason.LENGTH;
        }
        end();
    }

    /**
     * The runtime ended the answer before it was finished (closed its stream with no finish reason): it ends here as a
     * {@code length} stop, and the job says why.
     */
    public void cutShort(String why) {
        finish = FinishReason.LENGTH;
        warn(why);
        end();
    }

    /** Something the job's result should say: a request not honoured, a figure not vouched for. */
    public void warn(String warning) {
        if (!warnings.contains(warning)) {
            warnings.add(warning);
        }
    }

    public List<String> warnings() {
        return List.copyOf(warnings);
    }

    public boolean isCancelled() {
        return cancelled.getAsBoolean();
    }

    /** When the runtime's first text arrived ({@link System#nanoTime()}), or 0 before it did. */
    public long firstTextNanos() {
        return firstTextNanos;
    }

    public String text() {
        return text.toString();
    }

    public int tokens() {
        return tokens;
    }

    public FinishReason finishReason() {
        return finish;
    }

    private int firstStop() {
        int best = -1;
        int from = Math.max(0, emitted - holdBack);
        for (String s : stops) {
            int i = text.indexOf(s, from);
            if (i >= 0 && (best < 0 || i < best)) {
                best = i;
            }
        }
        return best;
    }

    private void emit(int upTo) {
        if (upTo > emitted) {
            deltas.accept(text.substring(emitted, upTo));
            emitted = upTo;
        }
    }
}
