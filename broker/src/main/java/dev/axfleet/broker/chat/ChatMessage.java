package dev.axfleet.broker.chat;

import java.util.List;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * One turn of a conversation: a list of typed parts (text, images), and for tool use the calls an assistant turn
 * made or the call a {@code tool} turn answers. Roles on the wire: {@code system}, {@code user}, {@code assistant},
 * {@code tool}.
 *
 * @param toolCalls  the tools an assistant turn called (empty otherwise)
 * @param toolCallId the call a tool turn answers (null otherwise)
 */
public record ChatMessage(String role, List<Part> parts, List<ToolCall> toolCalls, String toolCallId) {
    public static final String SYSTEM = "system";
    public static final String USER = "user";
    public static final String ASSISTANT = "assistant";
    public static final String TOOL = "tool";

    public ChatMessage {
        Objects.requireNonNull(role, "role");
        parts = List.copyOf(parts);
        toolCalls = toolCalls == null ? List.of() : List.copyOf(toolCalls);
    }

    /** A turn of text only. */
    public ChatMessage(String role, String content) {
        this(role, List.of(new Part.Text(Objects.requireNonNull(content, "content"))), List.of(), null);
    }

    public static ChatMessage system(String content) {
        return new ChatMessage(SYSTEM, content);
    }

    public static ChatMessage user(String content) {
        return new ChatMessage(USER, content);
    }

    /** The text parts, joined by newlines (the whole turn when it is text only). */
    public String content() {
        return parts.stream().filter(p -> p.type() == Part.Type.TEXT).map(p -> ((Part.Text) p).text()).collect(Collectors.joining("\n"));
    }

    public List<Part.Image> images() {
        return parts.stream().filter(p -> p.type() == Part.Type.IMAGE).map(p -> (Part.Image) p).toList();
    }

    /** The same turn with other text: the images and tool fields are kept. */
    public ChatMessage withContent(String content) {
        List<Part> kept = new java.util.ArrayList<>(images());
        kept.add(0, new Part.Text(content));
        return new ChatMessage(role, kept, toolCalls, toolCallId);
    }
}
