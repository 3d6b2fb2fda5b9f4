package dev.axfleet.broker.chat;

import dev.axfleet.broker.Range;
import dev.axfleet.broker.Task;
import dev.axfleet.broker.TaskParams;
import java.util.List;

/**
 * What a chat job asks of the model. Sampling fields are null when the caller did not set them, so each
 * runtime adapter can tell "not set" from a value and apply its own defaults. The bounds below are the only
 * place chat's ranges are written: the wire codec and every facade read them from here.
 *
 * @param maxTokens upper bound on generated tokens; null means the worker's default
 * @param stop      sequences that end the answer; the answer never contains them
 * @param think     whether the model may think before it answers (Qwen3's thinking mode); its thinking then
 *                  comes back apart from the answer, never inside it. Off unless asked for.
 * @param tools     functions the model may call; empty: none
 * @param toolChoice whether it may, must or must not call one (auto when tools are given)
 * @param responseFormat text, or JSON the worker validates (and asks again for) before it answers
 */
public record ChatParams(
        List<ChatMessage> messages,
        Double temperature,
        Double topP,
        Integer topK,
        Integer maxTokens,
        List<String> stop,
        Long seed,
        Double presencePenalty,
        Double frequencyPenalty,
        Double repeatPenalty,
        boolean think,
        List<Tool> tools,
        ToolChoice toolChoice,
        ResponseFormat responseFormat) implements TaskParams {

    public static final Range TEMPERATURE = new Range(0, 2);
    public static final Range TOP_P = new Range(0, 1);
    public static final Range TOP_K = new Range(0, 1_000_000);
    public static final Range MAX_TOKENS = new Range(1, 1 << 20);
    /** OpenAI's presence and frequency penalties. */
    public static final Range PENALTY = new Range(-2, 2);
    /** Ollama's and the legacy runtime's repetition penalty. */
    public static final Range REPEAT_PENALTY = new Range(0, 10);
    public static final int MAX_MESSAGES = 1000;
    public static final int MAX_STOP_SEQUENCES = 16;
    public static final int MAX_STOP_LENGTH = 256;
    /**
     * Images in one job: each costs the encoder's tokens (144 for Qwen3-VL-2B at 384 px, 256 for InternVL3-1B at 448)
     * of a context of about 2,000, so more than a few never fit.
     */
    public static final int MAX_IMAGES = 8;
    /** Tool calls in one assistant turn. */
    public static final int MAX_TOOL_CALLS = 16;
    /** One image as sent (before the worker sizes it for the encoder): a phone's 12-MP JPEG fits. */
    public static final int MAX_IMAGE_BYTES = 12 << 20;

    /** A request without tools that answers in text. */
    public ChatParams(List<ChatMessage> messages, Double temperature, Double topP, Integer topK, Integer maxTokens, List<String> stop,
                      Long seed, Double presencePenalty, Double frequencyPenalty, Double repeatPenalty, boolean think) {
        this(messages, temperature, topP, topK, maxTokens, stop, seed, presencePenalty, frequencyPenalty, repeatPenalty, think,
                List.of(), ToolChoice.AUTO, ResponseFormat.TEXT);
    }

    public ChatParams {
        messages = List.copyOf(messages);
        tools = tools == null ? List.of() : List.copyOf(tools);
        toolChoice = toolChoice == null ? ToolChoice.AUTO : toolChoice;
        responseFormat = responseFormat == null ? ResponseFormat.TEXT : responseFormat;
        if (tools.size() > Tool.MAX_TOOLS) {
            throw new IllegalArgumentException("at most " + Tool.MAX_TOOLS + " tools");
        }
        if (tools.stream().map(Tool::name).distinct().count() != tools.size()) {
            throw new IllegalArgumentException("two tools share a name");
        }
        String named = toolChoice.name();
        if (toolChoice.mode() == ToolChoice.Mode.FUNCTION && tools.stream().noneMatch(t -> t.name().equals(named))) {
            throw new IllegalArgumentException("tool_choice names " + named + ", which is not among the tools");
        }
        if (toolChoice.mode() == ToolChoice.Mode.REQUIRED && tools.isEmpty()) {
            throw new IllegalArgumentException("tool_choice required, but no tools are given");
        }
        stop = stop == null ? List.of() : List.copyOf(stop);
        // No messages is a template of sampling fields (a kept conversation's turn adds them); a job on the wire has 1 or more.
        if (messages.size() > MAX_MESSAGES) {
            throw new IllegalArgumentException("a chat job has at most " + MAX_MESSAGES + " messages");
        }
        int images = 0;
        for (ChatMessage m : messages) {
            if (!m.images().isEmpty() && !m.role().equals(ChatMessage.USER)) {
                throw new IllegalArgumentException("images go in user messages, not " + m.role() + " ones");
            }
            images += m.images().size();
            if (m.images().stream().anyMatch(i -> i.data().length > MAX_IMAGE_BYTES)) {
                throw new IllegalArgumentException("an image is at most " + MAX_IMAGE_BYTES + " bytes");
            }
        }
        if (images > MAX_IMAGES) {
            throw new IllegalArgumentException("a chat job has at most " + MAX_IMAGES + " images, not " + images);
        }
        check("temperature", temperature, TEMPERATURE);
        check("top_p", topP, TOP_P);
        check("top_k", topK == null ? null : topK.doubleValue(), TOP_K);
        check("max_tokens", maxTokens == null ? null : maxTokens.doubleValue(), MAX_TOKENS);
        check("presence_penalty", presencePenalty, PENALTY);
        check("frequency_penalty", frequencyPenalty, PENALTY);
        check("repeat_penalty", repeatPenalty, REPEAT_PENALTY);
        if (stop.size() > MAX_STOP_SEQUENCES || stop.stream().anyMatch(s -> s.isEmpty() || s.length() > MAX_STOP_LENGTH)) {
            throw new IllegalArgumentException("stop: at most " + MAX_STOP_SEQUENCES + " sequences of 1 to " + MAX_STOP_LENGTH + " characters");
        }
    }

    private static void check(String name, Double value, Range range) {
        if (value != null && !(value >= range.min() && value <= range.max())) {
            throw new IllegalArgumentException(name + " must be from " + range.min() + " to " + range.max() + ": " + value);
        }
    }

    @Override
    public Task task() {
        return Task.CHAT;
    }

    /**
     * Why a history's tool turns do not fit together, or null: every {@code tool} message answers a call an earlier
     * assistant message made (OpenAI refuses one that does not, and a model given it would read an answer to nothing).
     */
    public static String toolHistoryProblem(List<ChatMessage> messages) {
        java.util.Set<String> called = new java.util.HashSet<>();
        for (int i = 0; i < messages.size(); i++) {
            ChatMessage m = messages.get(i);
            m.toolCalls().forEach(c -> called.add(c.id()));
            if (m.role().equals(ChatMessage.TOOL) && !called.contains(m.toolCallId())) {
                return "messages[" + i + "]: a tool message answers tool_call_id " + m.toolCallId()
                        + ", which no earlier assistant message called";
            }
        }
        return null;
    }

    /** How many images the messages hold. */
    public int imageCount() {
        return messages.stream().mapToInt(m -> m.images().size()).sum();
    }

    /** The same request with other messages (a conversation shortened to fit the context). */
    public ChatParams withMessages(List<ChatMessage> replacement) {
        return new ChatParams(replacement, temperature, topP, topK, maxTokens, stop, seed, presencePenalty, frequencyPenalty, repeatPenalty, think,
                tools, toolChoice, responseFormat);
    }

    /** The same request with other tools, choice and format (how the worker asks for structured output). */
    public ChatParams with(List<Tool> tools, ToolChoice choice, ResponseFormat format, Double temperature, Double topP, boolean think) {
        return new ChatParams(messages, temperature, topP, topK, maxTokens, stop, seed, presencePenalty, frequencyPenalty, repeatPenalty, think,
                tools, choice, format);
    }
}
