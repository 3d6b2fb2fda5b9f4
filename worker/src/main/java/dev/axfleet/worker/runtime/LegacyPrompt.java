package dev.axfleet.worker.runtime;

import dev.axfleet.broker.chat.ChatMessage;
import java.util.List;

/**
 * The one prompt the legacy runtime gets per job. It holds a single conversation and learns earlier
 * assistant turns only from its own answers, so a job's history is written into the prompt; the system
 * prompt goes separately through {@code /api/reset}.
 */
final class LegacyPrompt {
    private LegacyPrompt() {
    }

    static String render(List<ChatMessage> messages) {
        List<ChatMessage> turns = messages.stream().filter(m -> !m.role().equals(ChatMessage.SYSTEM)).toList();
        if (turns.isEmpty()) {
            return "";
        }
        ChatMessage last = turns.get(turns.size() - 1);
        if (turns.size() == 1) {
            return last.content();
        }
        StringBuilder sb = new StringBuilder("Earlier in this conversation:\n");
        for (ChatMessage m : turns.subList(0, turns.size() - 1)) {
            sb.append(m.role().equals(ChatMessage.ASSISTANT) ? "Assistant: " : "User: ").append(m.content()).append('\n');
        }
        return sb.append("\nNow answer this:\n").append(last.content()).toString();
    }
}
