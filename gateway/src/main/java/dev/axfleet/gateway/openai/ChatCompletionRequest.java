package dev.axfleet.gateway.openai;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.axfleet.broker.chat.ChatMessage;
import dev.axfleet.broker.chat.ChatParams;
import dev.axfleet.broker.FieldException;
import dev.axfleet.broker.JsonFields;
import dev.axfleet.broker.chat.Part;
import dev.axfleet.broker.chat.ResponseFormat;
import dev.axfleet.broker.chat.Tool;
import dev.axfleet.broker.chat.ToolCall;
import dev.axfleet.broker.chat.ToolChoice;
import dev.axfleet.gateway.ChatForms;
import dev.axfleet.gateway.ApiException;
import dev.axfleet.gateway.ImageUrls;
import java.util.ArrayList;
import java.util.List;

/**
 * An OpenAI {@code POST /v1/chat/completions} body (openai/openai-openapi CreateChatCompletionRequest;
 * ../shared/anchors.md §1a) translated into a chat job. Content is text and {@code image_url} parts (data URLs, or
 * http(s) ones where {@link ImageUrls} fetches them); tools, tool messages and the calls of assistant turns; JSON
 * answers ({@code response_format} json_object and json_schema, which the worker validates). Fields the card cannot
 * honour are refused by name (n &gt; 1, logprobs, audio and file parts); fields that only describe the caller (user,
 * metadata, store, ...) are ignored, as Ollama's OpenAI layer does.
 */
record ChatCompletionRequest(String model, ChatParams params, boolean stream, boolean includeUsage) {

    static ChatCompletionRequest parse(JsonObject body, ImageUrls urls) throws ApiException {
        try {
            JsonFields f = JsonFields.of(body);
            String model = f.optString("model", 1, 256);
            if (model == null) {
                throw new FieldException("model", "required");
            }
            Integer n = f.optInt("n", 1, 128);
            if (n != null && n != 1) {
                throw new FieldException("n", "only n=1 is supported: the card runs one answer at a time");
            }
            List<Tool> tools = ChatForms.tools(f);
            ToolChoice choice = ChatForms.toolChoice(f, tools);
            // Accepted as OpenAI's clients send it: the runtime returns the calls the model makes (docs/tool_calling.md).
            f.optBool("parallel_tool_calls");
            if (Boolean.TRUE.equals(f.optBool("logprobs"))) {
                throw new FieldException("logprobs", "log probabilities are not available from the card's runtime");
            }
            ResponseFormat format = ChatForms.openAiFormat(f);
            if (format.json() && !tools.isEmpty()) {
                throw new FieldException("response_format", "a JSON answer and tools in one request are not supported here: the "
                        + "runtime's one way to force JSON is a tool of its own; ask for one or the other");
            }
            Integer maxTokens = f.optInt("max_tokens", ChatParams.MAX_TOKENS);
            Integer maxCompletion = f.optInt("max_completion_tokens", ChatParams.MAX_TOKENS);
            Integer limit = maxTokens == null ? maxCompletion : maxCompletion == null ? maxTokens : Integer.valueOf(Math.min(maxTokens, maxCompletion));
            boolean stream = Boolean.TRUE.equals(f.optBool("stream"));
            boolean includeUsage = false;
            JsonElement options = f.get("stream_options");
            if (options != null) {
                if (!options.isJsonObject()) {
                    throw new FieldException("stream_options", "must be an object");
                }
                includeUsage = Boolean.TRUE.equals(new JsonFields(options.getAsJsonObject(), "stream_options.").optBool("include_usage"));
            }
            ChatParams params = new ChatParams(
                    messages(f, urls),
                    f.optDouble("temperature", ChatParams.TEMPERATURE),
                    f.optDouble("top_p", ChatParams.TOP_P),
                    null,
                    limit,
                    f.optStringList("stop", ChatParams.MAX_STOP_SEQUENCES, ChatParams.MAX_STOP_LENGTH),
                    f.optLong("seed"),
                    f.optDouble("presence_penalty", ChatParams.PENALTY),
                    f.optDouble("frequency_penalty", ChatParams.PENALTY),
                    null,
                    think(f),
                    tools,
                    choice,
                    format);
            return new ChatCompletionRequest(model, params, stream, includeUsage);
        } catch (FieldException e) {
            throw ApiException.badRequest(e.field(), e.getMessage());
        }
    }

    /**
     * Thinking as OpenAI clients ask for it ({@code reasoning_effort}: none is off, any effort is on) and as
     * axllm serve's own clients do ({@code enable_thinking} or {@code thinking_mode}, at the top level or under
     * {@code chat_template_kwargs}; AXERA-TECH/ax-llm:docs/configuration.md). Off when none is given.
     */
    private static boolean think(JsonFields f) throws FieldException {
        String effort = f.optString("reasoning_effort", 1, 16);
        if (effort != null) {
            if (!List.of("none", "minimal", "low", "medium", "high", "xhigh").contains(effort)) {
                throw new FieldException("reasoning_effort", "must be none, minimal, low, medium or high");
            }
            return !effort.equals("none");
        }
        Boolean top = switchOf(f);
        if (top != null) {
            return top;
        }
        JsonElement kwargs = f.get("chat_template_kwargs");
        if (kwargs != null) {
            if (!kwargs.isJsonObject()) {
                throw new FieldException("chat_template_kwargs", "must be an object");
            }
            return Boolean.TRUE.equals(switchOf(new JsonFields(kwargs.getAsJsonObject(), "chat_template_kwargs.")));
        }
        return false;
    }

    private static Boolean switchOf(JsonFields f) throws FieldException {
        Boolean enable = f.optBool("enable_thinking");
        if (enable != null) {
            return enable;
        }
        String mode = f.optString("thinking_mode", 1, 32);
        if (mode == null || mode.equals("default") || mode.equals("auto")) {
            return null;
        }
        return switch (mode) {
            case "think", "thinking", "enable_thinking" -> true;
            case "no_think", "nothink", "non_thinking", "disable_thinking" -> false;
            default -> throw new FieldException(f.prefix() + "thinking_mode", "must be think, no_think or default");
        };
    }

    private static List<ChatMessage> messages(JsonFields f, ImageUrls urls) throws FieldException {
        List<JsonFields> list = f.optObjects("messages", ChatParams.MAX_MESSAGES);
        if (list.isEmpty()) {
            throw new FieldException("messages", "required: a non-empty array");
        }
        List<ChatMessage> out = new ArrayList<>(list.size());
        for (JsonFields m : list) {
            String role = m.requireString("role");
            String wireRole = switch (role) {
                case "system", "developer" -> ChatMessage.SYSTEM;
                case "user" -> ChatMessage.USER;
                case "assistant" -> ChatMessage.ASSISTANT;
                case "tool" -> ChatMessage.TOOL;
                case "function" -> throw new FieldException(m.prefix() + "role", "the old function role is not supported; send tool messages");
                default -> throw new FieldException(m.prefix() + "role", "must be system, developer, user, assistant or tool");
            };
            List<ToolCall> calls = new ArrayList<>();
            if (m.get("tool_calls") != null && !m.get("tool_calls").isJsonNull()) {
                if (!wireRole.equals(ChatMessage.ASSISTANT)) {
                    throw new FieldException(m.prefix() + "tool_calls", "only an assistant message makes tool calls");
                }
                for (JsonFields c : m.optObjects("tool_calls", ChatParams.MAX_TOOL_CALLS)) {
                    JsonElement fe = c.get("function");
                    if (fe == null || !fe.isJsonObject()) {
                        throw new FieldException(c.prefix() + "function", "required: {name, arguments}");
                    }
                    JsonFields fn = new JsonFields(fe.getAsJsonObject(), c.prefix() + "function.");
                    String name = fn.requireString("name");
                    if (!Tool.NAME.matcher(name).matches()) {
                        throw new FieldException(fn.prefix() + "name", "must be 1 to 64 letters, digits, _ or -");
                    }
                    calls.add(new ToolCall(c.requireString("id"), name, fn.optString("arguments", 0, Integer.MAX_VALUE) == null ? "{}"
                            : fn.optString("arguments", 0, Integer.MAX_VALUE)));
                }
            }
            String toolCallId = null;
            if (wireRole.equals(ChatMessage.TOOL)) {
                toolCallId = m.optString("tool_call_id", 1, 256);
                if (toolCallId == null) {
                    throw new FieldException(m.prefix() + "tool_call_id", "required: the id of the call this tool message answers");
                }
            }
            List<Part> parts = content(m, calls.isEmpty() ? wireRole : ChatMessage.ASSISTANT, urls);
            if (parts.stream().anyMatch(p -> p.type() == Part.Type.IMAGE) && !wireRole.equals(ChatMessage.USER)) {
                throw new FieldException(m.prefix() + "content", "images go in user messages");
            }
            out.add(new ChatMessage(wireRole, parts, calls, toolCallId));
        }
        String history = ChatParams.toolHistoryProblem(out);
        if (history != null) {
            throw new FieldException("messages", history);
        }
        long images = out.stream().mapToLong(msg -> msg.images().size()).sum();
        if (images > ChatParams.MAX_IMAGES) {
            throw new FieldException("messages", images + " images; a request holds at most " + ChatParams.MAX_IMAGES
                    + " (each costs the model up to " + dev.axfleet.broker.chat.TokenEstimate.PER_IMAGE + " tokens of its context)");
        }
        return out;
    }

    /** A string, or an array of text and image parts; an assistant turn may have none. */
    private static List<Part> content(JsonFields m, String role, ImageUrls urls) throws FieldException {
        JsonElement c = m.get("content");
        if (c == null || c.isJsonNull()) {
            if (role.equals(ChatMessage.ASSISTANT)) {
                return List.of(new Part.Text(""));
            }
            throw new FieldException(m.prefix() + "content", "required");
        }
        if (c.isJsonPrimitive() && c.getAsJsonPrimitive().isString()) {
            return List.of(new Part.Text(c.getAsString()));
        }
        if (!c.isJsonArray()) {
            throw new FieldException(m.prefix() + "content", "must be a string or an array of content parts");
        }
        List<Part> parts = new ArrayList<>();
        for (JsonFields p : m.optObjects("content", ChatParams.MAX_MESSAGES)) {
            String type = p.requireString("type");
            switch (type) {
                case "text" -> parts.add(new Part.Text(p.requireString("text")));
                case "image_url" -> {
                    JsonElement u = p.get("image_url");
                    String url = u != null && u.isJsonObject() ? new JsonFields(u.getAsJsonObject(), p.prefix() + "image_url.").requireString("url")
                            : p.requireString("image_url");
                    parts.add(urls.image(p.prefix() + "image_url.url", url));
                }
                default -> throw new FieldException(p.prefix() + "type", "'" + type + "' parts are not supported; send text and image_url parts");
            }
        }
        return parts;
    }
}
