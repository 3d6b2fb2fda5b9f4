package dev.axfleet.gateway;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.axfleet.broker.chat.ChatMessage;
import dev.axfleet.broker.chat.TokenEstimate;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Conversations kept on the server, for clients written against the legacy runtime that held one and took only
 * the latest user text (the coyote's AX650 mode, ../shared/axera.md §8.6). Each is a system prompt and its turns,
 * kept on disk so it survives a restart of the gateway or a worker; the whole of it goes to the runtime every
 * turn, whose prefix cache makes only the new text cost. Turns of one conversation run one at a time.
 */
public final class Conversations {
    private static final Logger log = LoggerFactory.getLogger(Conversations.class);

    private final Path dir;
    private final int maxMessages;
    private final Map<String, Conversation> open = new ConcurrentHashMap<>();

    public Conversations(Path dir, int maxMessages) {
        this.dir = dir;
        this.maxMessages = Math.max(2, maxMessages);
    }

    /** The conversation called {@code name}, as it was left (on disk) or empty. */
    public Conversation get(String name) {
        return open.computeIfAbsent(name, n -> new Conversation(dir.resolve(n.replaceAll("[^A-Za-z0-9._-]", "_") + ".json")));
    }

    /** One kept conversation. */
    public final class Conversation {
        private final Path file;
        private final ReentrantLock turn = new ReentrantLock(true);
        private String system;
        private final List<ChatMessage> turns = new ArrayList<>();

        private Conversation(Path file) {
            this.file = file;
            load();
        }

        /** Held for the length of a turn, so turns follow each other in order. */
        public ReentrantLock turn() {
            return turn;
        }

        /** The system prompt it keeps, or null. */
        public synchronized String system() {
            return system;
        }

        /** Starts again with {@code systemPrompt} (null keeps the one it has). */
        public synchronized void reset(String systemPrompt) {
            if (systemPrompt != null) {
                system = systemPrompt;
            }
            turns.clear();
            save();
        }

        /**
         * What goes to the runtime for {@code prompt}: the system prompt, the turns so far, the prompt. When that
         * nears the context ({@code contextTokens}, less {@code answerTokens} for the answer), the oldest turns are
         * dropped until half the room is free: the system prompt stays, and a drop happens rarely enough that the
         * runtime's prefix cache keeps paying off. 0 tokens: the context is not known yet.
         */
        public synchronized List<ChatMessage> messages(String prompt, int contextTokens, int answerTokens) {
            if (contextTokens > 0) {
                int budget = contextTokens - Math.min(answerTokens, contextTokens / 2);
                if (TokenEstimate.of(build(prompt)) > budget * 9 / 10) {
                    int before = turns.size();
                    while (turns.size() >= 2 && TokenEstimate.of(build(prompt)) > budget / 2) {
                        turns.remove(0);
                        turns.remove(0);
                    }
                    log.info("conversation {}: {} oldest messages dropped to fit the model's context of {} tokens; the system prompt is kept",
                            file.getFileName(), before - turns.size(), contextTokens);
                    save();
                }
            }
            return build(prompt);
        }

        /** A turn that ended with an answer. */
        public synchronized void answered(String prompt, String answer) {
            turns.add(ChatMessage.user(prompt));
            turns.add(new ChatMessage(ChatMessage.ASSISTANT, answer));
            while (turns.size() > maxMessages) {
                turns.remove(0);
                turns.remove(0);
            }
            save();
        }

        private List<ChatMessage> build(String prompt) {
            List<ChatMessage> out = new ArrayList<>(turns.size() + 2);
            if (system != null && !system.isEmpty()) {
                out.add(ChatMessage.system(system));
            }
            out.addAll(turns);
            out.add(ChatMessage.user(prompt));
            return out;
        }

        private void load() {
            if (!Files.isRegularFile(file)) {
                return;
            }
            try {
                JsonObject o = JsonParser.parseString(Files.readString(file, StandardCharsets.UTF_8)).getAsJsonObject();
                system = o.has("system") && !o.get("system").isJsonNull() ? o.get("system").getAsString() : null;
                o.getAsJsonArray("messages").forEach(e -> turns.add(new ChatMessage(e.getAsJsonObject().get("role").getAsString(),
                        e.getAsJsonObject().get("content").getAsString())));
                log.info("conversation {}: {} messages read back", file.getFileName(), turns.size());
            } catch (IOException | RuntimeException e) {
                log.warn("conversation {} cannot be read ({}); it starts empty", file, e.toString());
                turns.clear();
            }
        }

        private void save() {
            JsonObject o = new JsonObject();
            o.addProperty("system", system);
            JsonArray messages = new JsonArray();
            for (ChatMessage m : turns) {
                JsonObject mo = new JsonObject();
                mo.addProperty("role", m.role());
                mo.addProperty("content", m.content());
                messages.add(mo);
            }
            o.add("messages", messages);
            try {
                Files.createDirectories(file.getParent());
                Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
                Files.writeString(tmp, o.toString(), StandardCharsets.UTF_8);
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot keep conversation " + file, e);
            }
        }
    }
}
