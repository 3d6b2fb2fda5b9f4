package dev.axfleet.broker.chat;

import java.util.Objects;

/** One turn of a conversation. Roles on the wire: {@code system}, {@code user}, {@code assistant}. */
public record ChatMessage(String role, String content) {
    public static final String SYSTEM = "system";
    public static final String USER = "user";
    public static final String ASSISTANT = "assistant";

    public ChatMessage {
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(content, "content");
    }

    public static ChatMessage system(String content) {
        return new ChatMessage(SYSTEM, content);
    }

    public static ChatMessage user(String content) {
        return new ChatMessage(USER, content);
    }
}
