package dev.axfleet.gateway.openai;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.axfleet.broker.chat.ChatMessage;
import dev.axfleet.broker.chat.ChatParams;
import dev.axfleet.broker.FieldException;
import dev.axfleet.broker.JsonFields;
import dev.axfleet.broker.chat.Part;
import dev.axfleet.gateway.ApiException;
import dev.axfleet.gateway.ImageUrls;
import java.util.ArrayList;
import java.util.List;

/**
 * An OpenAI {@code POST /v1/chat/completions} body (openai/openai-openapi CreateChatCompletionRequest;
 * ../shared/anchors.md §1a) translated into a chat job. Content is text and {@code image_url} parts (data URLs, or
 * http(s) ones where {@link ImageUrls} fetches them). Fields the card cannot honour are refused by name (n &gt; 1,
 * tools, logprobs, JSON response formats, audio and file parts); fields that only describe the caller (user, metadata,
 * store, ...) are ignored, as Ollama's OpenAI layer does.
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
            JsonElement tools = f.get("tools");
            if (tools != null && (!tools.isJsonArray() || !tools.getAsJsonArray().isEmpty())) {
                throw new FieldException("tools", "tool calling is not supported here");
            }
            if (Boolean.TRUE.equals(f.optBool("logprobs"))) {
                throw new FieldException("logprobs", "log probabilities are not available from the card's runtime");
            }
            JsonElement format = f.get("response_format");
            if (format != null) {
                String type = format.isJsonObject() ? new JsonFields(format.getAsJsonObject(), "response_format.").optString("type", 1, 64) : null;
                if (!"text".equals(type)) {
                    throw new FieldException("response_format", "only {\"type\": \"text\"} is supported");
                }
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
                    think(f));
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
                case "tool", "function" -> throw new FieldException(m.prefix() + "role", "tool messages are not supported here");
                default -> throw new FieldException(m.prefix() + "role", "must be system, developer, user or assistant");
            };
            if (m.get("tool_calls") != null) {
                throw new FieldException(m.prefix() + "tool_calls", "tool calling is not supported here");
            }
            List<Part> parts = content(m, wireRole, urls);
            if (parts.stream().anyMatch(p -> p.type() == Part.Type.IMAGE) && !wireRole.equals(ChatMessage.USER)) {
                throw new FieldException(m.prefix() + "content", "images go in user messages");
            }
            out.add(new ChatMessage(wireRole, parts, List.of(), null));
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
