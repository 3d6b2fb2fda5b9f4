package dev.axfleet.gateway.voice;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Text arriving a piece at a time, cut where the melotts unit cuts (F51), as soon as a phrase is whole. */
class PhrasesTest {
    static List<String> feed(Phrases p, String... pieces) {
        List<String> out = new ArrayList<>();
        for (String piece : pieces) {
            out.addAll(p.add(piece));
        }
        String rest = p.finish();
        if (!rest.isEmpty()) {
            out.add(rest);
        }
        return out;
    }

    @Test
    void aPhraseEndsAtTheUnitsMarksOnceWhitespaceFollows() {
        Phrases p = new Phrases(4096);
        assertEquals(List.of(), p.add("Hello there"));
        assertEquals(List.of(), p.add(","), "a comma at the end of a delta may be the 1 of 1,000");
        assertEquals(List.of("Hello there,"), p.add(" visitor"));
        assertEquals(List.of("visitor."), p.add(". It costs 3"));
        assertEquals(List.of(), p.add(".5 dollars"), "3.5 is not cut");
        assertEquals(List.of("It costs 3.5 dollars!"), p.add("! "));
        assertEquals("Bye", p.add("Bye").isEmpty() ? p.finish() : "not yet");
    }

    @Test
    void fullWidthMarksAndLineBreaksCutAtOnce() {
        assertEquals(List.of("你好，", "欢迎。", "line one", "line two"), feed(new Phrases(4096), "你好，欢", "迎。line one\nline two"));
    }

    @Test
    void punctuationAloneIsNeverAPhraseOfItsOwn() {
        assertEquals(List.of("Wait...", "what?"), feed(new Phrases(4096), "Wait. .. what?"), "joined to the phrase before it");
        assertEquals(List.of("Wait.", "what?"), feed(new Phrases(4096), "Wait. ", ".. what?"), "or left unsaid when that one is gone");
    }

    @Test
    void aPhraseIsNeverLongerThanTheJobTakes() {
        List<String> out = feed(new Phrases(20), "one two three four five six seven eight nine ten");
        assertTrue(out.stream().allMatch(s -> s.length() <= 20), out.toString());
        assertEquals("one two three four five six seven eight nine ten", String.join(" ", out));
    }

    @Test
    void theFirstPhraseMayBeCutAfterAFewWordsTheRestOnlyAtMarks() {
        assertEquals(List.of("The coyote listens to", "a quiet desert wind and answers with stars.", "Then it sleeps."),
                feed(new Phrases(4096, 4), "The coyote ", "listens to a quiet desert wind and answers with stars. Then it sleeps."));
        assertEquals(List.of("Yes,", "of course."), feed(new Phrases(4096, 4), "Yes, of course."), "a mark before the words are up cuts as usual");
    }
}
