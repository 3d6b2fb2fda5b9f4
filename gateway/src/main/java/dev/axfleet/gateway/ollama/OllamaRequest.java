package dev.axfleet.gateway.ollama;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.axfleet.broker.chat.ChatMessage;
import dev.axfleet.broker.chat.ChatParams;
import dev.axfleet.broker.chat.Part;
import dev.axfleet.broker.chat.ResponseFormat;
import dev.axfleet.broker.chat.Tool;
import dev.axfleet.broker.chat.ToolCall;
import dev.axfleet.broker.chat.ToolChoice;
import dev.axfleet.gateway.ChatForms;
import dev.axfleet.broker.FieldException;
import dev.axfleet.broker.JsonFields;
import dev.axfleet.broker.residency.KeepAlive;
import dev.axfleet.gateway.ApiException;
import java.util.ArrayList;
import java.util.List;

/**
 * An Ollama {@code /api/chat} or {@code /api/generate} body (ollama/ollama api/types.go, docs/api.md;
 * ../shared/anchors.md §1b) translated into a chat job.
 *
 * <p>{@code options} honoured: temperature, top_k, top_p, num_predict, repeat_penalty, stop, seed,
 * presence_penalty, frequency_penalty. Accepted without effect, as documented in docs/ollama.md:
 * num_ctx and repeat_last_n (the card's runtimes fix both) and the runner options. {@code keep_alive} goes with the
 * job (the worker keeps the model loaded that long after it; see the residency package). {@code images} (base64) go to a
 * vision model with the message they belong to (a generate's with its prompt); {@code tools} and tool messages to a model
 * whose runtime renders them; {@code format} ("json" or a schema) makes a JSON answer the worker validates. Refused by
 * name: raw prompts, suffixes and templates, which the card's runtimes cannot honour. {@code think} asks for the model's thinking, returned apart
 * from the answer.
 *
 * @param params what the job asks; null for a load call
 * @param empty  a request with nothing to answer (no prompt, no messages): Ollama's "load" call, or its "unload" call with
 *               keep_alive 0 (routes.go@fb30760:403-415, 476-487)
 * @param keepAlive Ollama's keep_alive, or null when the request has none
 */
record OllamaRequest(String model, ChatParams params, boolean stream, boolean empty, KeepAlive keepAlive) {
    /** The latest user text: a generate's prompt, the turn a kept conversation goes on with. */
    String prompt() {
        return params == null ? "" : params.messages().get(params.messages().size() - 1).content();
    }

    /** The request, or for a load call (nothing to answer: no job, no params) its options checked all the same. */
    private static OllamaRequest of(String model, JsonFields f, List<ChatMessage> messages) throws FieldException {
        boolean empty = messages.isEmpty();
        ChatParams params = params(f, empty ? List.of(ChatMessage.user("")) : messages);
        return new OllamaRequest(model, empty ? null : params, !Boolean.FALSE.equals(f.optBool("stream")), empty, keepAlive(f));
    }

    static OllamaRequest chat(JsonObject body) throws ApiException {
        try {
            JsonFields f = JsonFields.of(body);
            String model = common(f);
            List<ChatMessage> messages = new ArrayList<>();
            // Ollama's history carries no call ids: calls get them by position, and a tool message answers the oldest call
            // not answered yet (of its tool_name when it gives one).
            List<ToolCall> unanswered = new ArrayList<>();
            int callCount = 0;
            for (JsonFields m : f.optObjects("messages", ChatParams.MAX_MESSAGES)) {
                String role = m.requireString("role");
                if (!List.of(ChatMessage.SYSTEM, ChatMessage.USER, ChatMessage.ASSISTANT, ChatMessage.TOOL).contains(role)) {
                    throw new FieldException(m.prefix() + "role", "must be system, user, assistant or tool");
                }
                List<ToolCall> calls = new ArrayList<>();
                for (JsonFields c : m.optObjects("tool_calls", ChatParams.MAX_TOOL_CALLS)) {
                    if (!role.equals(ChatMessage.ASSISTANT)) {
                        throw new FieldException(m.prefix() + "tool_calls", "only an assistant message makes tool calls");
                    }
                    JsonElement fe = c.get("function");
                    if (fe == null || !fe.isJsonObject()) {
                        throw new FieldException(c.prefix() + "function", "required: {name, arguments}");
                    }
                    JsonFields fn = new JsonFields(fe.getAsJsonObject(), c.prefix() + "function.");
                    String name = fn.requireString("name");
                    JsonElement args = fn.get("arguments");
                    ToolCall call = new ToolCall("call_" + callCount++ + "_" + name, name,
                            args == null || args.isJsonNull() ? "{}" : args.isJsonPrimitive() ? args.getAsString() : args.toString());
                    calls.add(call);
                    unanswered.add(call);
                }
                String toolCallId = null;
                if (role.equals(ChatMessage.TOOL)) {
                    String toolName = m.optString("tool_name", 1, 64);
                    ToolCall answered = unanswered.stream().filter(c -> toolName == null || c.name().equals(toolName)).findFirst()
                            .orElseThrow(() -> new FieldException(m.prefix() + "role", "a tool message answers no earlier tool call"
                                    + (toolName == null ? "" : " of " + toolName)));
                    unanswered.remove(answered);
                    toolCallId = answered.id();
                }
                String content = m.optString("content", 0, Integer.MAX_VALUE);
                List<Part> parts = withImages(m, content, role);
                messages.add(new ChatMessage(role, parts, calls, toolCallId));
            }
            checkImageCount(messages);
            return of(model, f, messages);
        } catch (FieldException e) {
            throw ApiException.badRequest(e.field(), e.getMessage());
        }
    }

    static OllamaRequest generate(JsonObject body) throws ApiException {
        try {
            JsonFields f = JsonFields.of(body);
            String model = common(f);
            if (Boolean.TRUE.equals(f.optBool("raw"))) {
                throw new FieldException("raw", "raw prompts are not supported: the card's runtime applies its own chat template");
            }
            String suffix = f.optString("suffix", 0, Integer.MAX_VALUE);
            if (suffix != null && !suffix.isEmpty()) {
                throw new FieldException("suffix", "fill-in-the-middle is not supported by this model");
            }
            String template = f.optString("template", 0, Integer.MAX_VALUE);
            if (template != null && !template.isEmpty()) {
                throw new FieldException("template", "custom templates are not supported: the card's runtime applies its own");
            }
            String prompt = f.optString("prompt", 0, Integer.MAX_VALUE);
            String system = f.optString("system", 0, Integer.MAX_VALUE);
            List<ChatMessage> messages = new ArrayList<>();
            if (system != null && !system.isEmpty()) {
                messages.add(ChatMessage.system(system));
            }
            if (prompt != null && !prompt.isEmpty()) {
                messages.add(new ChatMessage(ChatMessage.USER, withImages(f, prompt, ChatMessage.USER), List.of(), null));
            } else {
                refuse(f, "images", "images need a prompt to go with them");
            }
            checkImageCount(messages);
            return of(model, f, prompt == null || prompt.isEmpty() ? List.of() : messages);
        } catch (FieldException e) {
            throw ApiException.badRequest(e.field(), e.getMessage());
        }
    }

    /** Fields both routes share: model, format, think, tools, keep_alive. */
    private static String common(JsonFields f) throws FieldException {
        String model = f.optString("model", 1, 256);
        if (model == null) {
            throw new FieldException("model", "model is required");
        }
        keepAlive(f);
        return model;
    }

    /** {@code keep_alive} as Ollama's api.Duration reads it (api/types.go@fb30760:1243), or null when absent. */
    private static KeepAlive keepAlive(JsonFields f) throws FieldException {
        JsonElement k = f.get("keep_alive");
        if (k == null || k.isJsonNull()) {
            return null;
        }
        try {
            return KeepAlive.parse(k);
        } catch (IllegalArgumentException e) {
            throw new FieldException("keep_alive", e.getMessage());
        }
    }

    /** Ollama's {@code think}: a bool, or a level (high, medium, low) that means on. Off when left out. */
    private static boolean think(JsonFields f) throws FieldException {
        JsonElement think = f.get("think");
        if (think == null || think.isJsonNull()) {
            return false;
        }
        if (think.isJsonPrimitive() && think.getAsJsonPrimitive().isBoolean()) {
            return think.getAsBoolean();
        }
        if (think.isJsonPrimitive() && think.getAsJsonPrimitive().isString() && List.of("high", "medium", "low").contains(think.getAsString())) {
            return true;
        }
        throw new FieldException("think", "must be true, false, \"high\", \"medium\" or \"low\"");
    }

    private static ChatParams params(JsonFields f, List<ChatMessage> messages) throws FieldException {
        List<Tool> tools = ChatForms.tools(f);
        ResponseFormat format = ChatForms.ollamaFormat(f);
        if (format.json() && !tools.isEmpty()) {
            throw new FieldException("format", "a JSON answer and tools in one request are not supported here: the runtime's one way to "
                    + "force JSON is a tool of its own; ask for one or the other");
        }
        JsonElement options = f.get("options");
        if (options != null && !options.isJsonObject()) {
            throw new FieldException("options", "must be an object");
        }
        JsonFields o = new JsonFields(options == null ? new JsonObject() : options.getAsJsonObject(), "options.");
        Integer numPredict = o.optInt("num_predict", -2, ChatParams.MAX_TOKENS.maxInt());
        o.optInt("num_ctx", 0, Integer.MAX_VALUE);
        o.optInt("repeat_last_n", -1, Integer.MAX_VALUE);
        return new ChatParams(
                messages,
                o.optDouble("temperature", ChatParams.TEMPERATURE),
                o.optDouble("top_p", ChatParams.TOP_P),
                o.optInt("top_k", ChatParams.TOP_K),
                numPredict == null || numPredict < 1 ? null : numPredict,
                o.optStringList("stop", ChatParams.MAX_STOP_SEQUENCES, ChatParams.MAX_STOP_LENGTH),
                o.optLong("seed"),
                o.optDouble("presence_penalty", ChatParams.PENALTY),
                o.optDouble("frequency_penalty", ChatParams.PENALTY),
                o.optDouble("repeat_penalty", ChatParams.REPEAT_PENALTY),
                think(f),
                tools,
                ToolChoice.AUTO,
                format);
    }

    /** The text, then the {@code images} beside it (Ollama's base64, api/types.go {@code ImageData}). */
    private static List<Part> withImages(JsonFields f, String text, String role) throws FieldException {
        List<Part> parts = new ArrayList<>();
        parts.add(new Part.Text(text == null ? "" : text));
        List<String> images = f.optStringList("images", ChatParams.MAX_IMAGES + 1, Integer.MAX_VALUE);
        if (!images.isEmpty() && !role.equals(ChatMessage.USER)) {
            throw new FieldException(f.prefix() + "images", "images go in user messages");
        }
        for (int i = 0; i < images.size(); i++) {
            parts.add(Part.Image.fromBase64(f.prefix() + "images[" + i + "]", images.get(i)));
        }
        return parts;
    }

    private static void checkImageCount(List<ChatMessage> messages) throws FieldException {
        long images = messages.stream().mapToLong(m -> m.images().size()).sum();
        if (images > ChatParams.MAX_IMAGES) {
            throw new FieldException("images", images + " images; a request holds at most " + ChatParams.MAX_IMAGES);
        }
    }

    private static void refuse(JsonFields f, String key, String why) throws FieldException {
        JsonElement e = f.get(key);
        if (e != null && !(e.isJsonArray() && e.getAsJsonArray().isEmpty())) {
            throw new FieldException(f.prefix() + key, why);
        }
    }
}
