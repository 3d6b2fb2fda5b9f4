package dev.axfleet.worker.chat;

import dev.axfleet.broker.chat.TokenEstimate;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.axfleet.broker.chat.ChatMessage;
import dev.axfleet.worker.WorkerConfig.ContextOverflow;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ContextFitTest {
    private static List<ChatMessage> conversation(int turns, int wordsPerMessage) {
        List<ChatMessage> m = new ArrayList<>(List.of(new ChatMessage(ChatMessage.SYSTEM, "persona")));
        for (int i = 0; i < turns; i++) {
            m.add(new ChatMessage(ChatMessage.USER, "q" + i + " " + "word ".repeat(wordsPerMessage)));
            m.add(new ChatMessage(ChatMessage.ASSISTANT, "a" + i + " " + "word ".repeat(wordsPerMessage)));
        }
        m.add(new ChatMessage(ChatMessage.USER, "last"));
        return m;
    }

    @Test
    void aConversationThatFitsIsLeftAlone() {
        List<ChatMessage> m = conversation(3, 10);
        ContextFit.Result r = ContextFit.fit(m, 2047, 512, ContextOverflow.TRUNCATE);
        assertEquals(m, r.messages());
        assertEquals(0, r.dropped());
        assertNull(r.refusal());
        assertEquals(m, ContextFit.fit(m, 0, 512, ContextOverflow.REJECT).messages(), "unknown context: nothing to check against");
    }

    @Test
    void truncationDropsWholeOldTurnsKeepsThePersonaAndStartsWithAUser() {
        List<ChatMessage> m = conversation(40, 60);
        ContextFit.Result r = ContextFit.fit(m, 2047, 512, ContextOverflow.TRUNCATE);
        assertNull(r.refusal());
        assertTrue(r.dropped() > 0);
        assertEquals(m.size() - r.dropped(), r.messages().size());
        assertEquals("persona", r.messages().get(0).content());
        assertEquals(ChatMessage.USER, r.messages().get(1).role());
        assertEquals("last", r.messages().get(r.messages().size() - 1).content());
        assertTrue(TokenEstimate.of(r.messages()) <= 2047 - 512);
    }

    @Test
    void rejectRefusesAndSaysWhy() {
        ContextFit.Result r = ContextFit.fit(conversation(40, 60), 2047, 512, ContextOverflow.REJECT);
        assertNotNull(r.refusal());
        assertTrue(r.refusal().contains("context holds 2047") && r.refusal().contains("reject"), r.refusal());
    }

    @Test
    void aLatestMessageTooLongOnItsOwnIsRefusedEvenWhenTruncating() {
        List<ChatMessage> m = List.of(new ChatMessage(ChatMessage.USER, "word ".repeat(3000)));
        ContextFit.Result r = ContextFit.fit(m, 2047, 512, ContextOverflow.TRUNCATE);
        assertTrue(r.refusal().contains("latest message alone"), r.refusal());
    }

    @Test
    void aHugeMaxTokensTakesAtMostHalfTheContext() {
        ContextFit.Result r = ContextFit.fit(conversation(3, 100), 2047, 100_000, ContextOverflow.REJECT);
        assertNull(r.refusal(), "about 800 tokens fit in the half of the context left for the prompt");
    }
}
