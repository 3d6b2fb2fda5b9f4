package dev.axfleet.worker.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ThinkTagsTest {

    private static Generation feed(boolean keep, List<String> answer, List<String> thoughts, String... pieces) {
        Generation g = new Generation(List.of(), 1000, answer::add, () -> false);
        if (keep) {
            g.keepThinking(thoughts::add);
        }
        ThinkTags tags = new ThinkTags(g);
        for (String p : pieces) {
            tags.accept(p);
        }
        tags.end();
        g.end();
        return g;
    }

    @Test
    void thinkingWithTagsSplitAcrossPiecesIsPartedFromTheAnswer() {
        List<String> answer = new ArrayList<>();
        List<String> thoughts = new ArrayList<>();
        Generation g = feed(true, answer, thoughts, "<th", "ink>\n", "Okay,", " the visitor", " asks.", "\n</", "think>", "\n\n", "Hello", " there.");
        assertEquals("Okay, the visitor asks.", g.thinking());
        assertEquals("Hello there.", g.text());
        assertEquals("Hello there.", String.join("", answer));
        assertEquals("Okay, the visitor asks.", String.join("", thoughts).strip());
        assertEquals(10, g.tokens(), "every piece counts as a token, thinking included");
    }

    @Test
    void withThinkingOffNoThinkingTextSurvivesNotEvenTheTemplatesEmptyBlock() {
        List<String> answer = new ArrayList<>();
        Generation g = feed(false, answer, new ArrayList<>(), "<think>", "\n\n", "</think>", "\n\n", "Howl", ".");
        assertEquals("Howl.", g.text());
        assertNull(g.thinking());
        Generation thought = feed(false, new ArrayList<>(), new ArrayList<>(), "<think>\nhmm\n</think>\n\nYes.");
        assertEquals("Yes.", thought.text());
        assertNull(thought.thinking());
    }

    @Test
    void anAnswerWithoutTagsPassesUnchangedAndAThoughtCutShortStaysThinking() {
        Generation plain = feed(true, new ArrayList<>(), new ArrayList<>(), "The", " <b>moon</b>", " <thin", " rises.");
        assertEquals("The <b>moon</b> <thin rises.", plain.text());
        assertNull(plain.thinking());
        Generation cut = feed(true, new ArrayList<>(), new ArrayList<>(), "<think>\n", "Okay", " so </thi");
        assertEquals("", cut.text());
        assertEquals("Okay so </thi", cut.thinking());
    }
}
