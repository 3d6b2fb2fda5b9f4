package dev.axfleet.worker.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.axfleet.broker.chat.FinishReason;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class GenerationTest {
    final List<String> deltas = new ArrayList<>();
    final AtomicBoolean cancelled = new AtomicBoolean();

    Generation generation(List<String> stops, int maxTokens) {
        return new Generation(stops, maxTokens, deltas::add, cancelled::get);
    }

    @Test
    void aStopSequenceSplitAcrossPiecesEndsTheAnswerAndIsNeverStreamed() {
        Generation g = generation(List.of("##END"), 100);
        assertTrue(g.accept("Hello wor", 1));
        assertTrue(g.accept("ld #", 1));
        assertTrue(g.accept("#E", 1));
        assertFalse(g.accept("ND and more", 1));
        assertEquals("Hello world ", g.text());
        assertEquals("Hello world ", String.join("", deltas));
        assertEquals(FinishReason.STOP, g.finishReason());
        deltas.forEach(d -> assertFalse(d.contains("#"), d));
    }

    @Test
    void theEarliestOfSeveralStopSequencesWins() {
        Generation g = generation(List.of("[", "#"), 100);
        assertFalse(g.accept("Howl # at the [moon", 1));
        assertEquals("Howl ", g.text());
    }

    @Test
    void heldBackTextIsReleasedWhenTheRuntimeEnds() {
        Generation g = generation(List.of("STOP"), 100);
        g.accept("almost ST", 1);
        g.end();
        assertEquals("almost ST", String.join("", deltas));
    }

    @Test
    void theTokenLimitEndsWithLengthAndCutsAnOvershootingPiece() {
        Generation g = generation(List.of(), 3);
        assertTrue(g.accept("ab", 1));
        assertFalse(g.accept("cdefgh", 4), "two of these four tokens fit");
        assertEquals("abcde", g.text(), "half of the 4-token piece is kept");
        assertEquals(3, g.tokens());
        assertEquals(FinishReason.LENGTH, g.finishReason());
    }

    @Test
    void theRuntimesOwnCountAtTheLimitIsALengthStop() {
        Generation g = generation(List.of(), 2);
        g.accept("a", 1);
        g.endWithRuntimeCount(2);
        assertEquals(FinishReason.LENGTH, g.finishReason());
    }

    @Test
    void cancellationStopsTheAnswer() {
        Generation g = generation(List.of(), 100);
        assertTrue(g.accept("one", 1));
        cancelled.set(true);
        assertFalse(g.accept("two", 1));
        assertTrue(g.isCancelled());
        assertEquals("one", g.text());
    }
}
