package dev.axfleet.broker.chat;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.axfleet.broker.Base64Data;
import dev.axfleet.broker.FieldException;
import dev.axfleet.broker.JsonFields;
import dev.axfleet.broker.KindCodec;
import dev.axfleet.broker.Task;
import dev.axfleet.broker.Usage;
import dev.axfleet.broker.WireName;
import dev.axfleet.broker.image.ImageCodec;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** Chat on the wire: {@code params.messages} (or a bare {@code prompt}), sampling fields; results carry the text. */
public final class ChatCodec extends KindCodec<ChatParams, ChatOutput> {
    public static final ChatCodec INSTANCE = new ChatCodec();
    /** A conversation's text fits in 1 MiB; a vision model's images come on top, bounded as an image job's are. */
    public static final int MAX_JOB_BYTES = ImageCodec.MAX_JOB_BYTES;
    /** The text of a chat job at most, in characters: more than any runtime's context holds. */
    public static final int MAX_TEXT_CHARS = 1 << 20;
    private static final Set<String> ROLES = Set.of(ChatMessage.SYSTEM, ChatMessage.USER, ChatMessage.ASSISTANT, ChatMessage.TOOL);

    private ChatCodec() {
        super(ChatParams.class, ChatOutput.class);
    }

    @Override
    public int maxJobBytes() {
        return MAX_JOB_BYTES;
    }

    @Override
    protected void writeParams(ChatParams p, JsonObject o) {
        JsonArray messages = new JsonArray();
        for (ChatMessage m : p.messages()) {
            messages.add(writeMessage(m));
        }
        o.add("messages", messages);
        addIfSet(o, "temperature", p.temperature());
        addIfSet(o, "top_p", p.topP());
        addIfSet(o, "top_k", p.topK());
        addIfSet(o, "max_tokens", p.maxTokens());
        if (!p.stop().isEmpty()) {
            JsonArray stop = new JsonArray();
            p.stop().forEach(stop::add);
            o.add("stop", stop);
        }
        addIfSet(o, "seed", p.seed());
        addIfSet(o, "presence_penalty", p.presencePenalty());
        addIfSet(o, "frequency_penalty", p.frequencyPenalty());
        addIfSet(o, "repeat_penalty", p.repeatPenalty());
        if (p.think()) {
            o.addProperty("think", true);
        }
        if (!p.tools().isEmpty()) {
            JsonArray tools = new JsonArray();
            for (Tool t : p.tools()) {
                JsonObject to = new JsonObject();
                to.addProperty("name", t.name());
                if (!t.description().isEmpty()) {
                    to.addProperty("description", t.description());
                }
                to.add("parameters", t.parameters());
                tools.add(to);
            }
            o.add("tools", tools);
            if (p.toolChoice().mode() == ToolChoice.Mode.FUNCTION) {
                JsonObject choice = new JsonObject();
                choice.addProperty("name", p.toolChoice().name());
                o.add("tool_choice", choice);
            } else if (p.toolChoice().mode() != ToolChoice.Mode.AUTO) {
                o.addProperty("tool_choice", p.toolChoice().mode().wire());
            }
        }
        if (p.responseFormat().json()) {
            JsonObject f = new JsonObject();
            f.addProperty("type", p.responseFormat().type().wire());
            if (p.responseFormat().schema() != null) {
                f.add("schema", p.responseFormat().schema());
            }
            if (p.responseFormat().name() != null) {
                f.addProperty("name", p.responseFormat().name());
            }
            if (p.responseFormat().strict()) {
                f.addProperty("strict", true);
            }
            o.add("response_format", f);
        }
    }

    private static List<Tool> readTools(JsonFields f) throws FieldException {
        List<Tool> tools = new ArrayList<>();
        for (JsonFields t : f.optObjects("tools", Tool.MAX_TOOLS)) {
            String name = t.requireString("name");
            if (!Tool.NAME.matcher(name).matches()) {
                throw new FieldException(t.prefix() + "name", "must be 1 to 64 letters, digits, _ or -");
            }
            if (tools.stream().anyMatch(x -> x.name().equals(name))) {
                throw new FieldException(t.prefix() + "name", "two tools are called " + name);
            }
            JsonElement parameters = t.get("parameters");
            if (parameters != null && !parameters.isJsonObject()) {
                throw new FieldException(t.prefix() + "parameters", "must be a JSON schema object");
            }
            tools.add(new Tool(name, t.optString("description", 0, Tool.MAX_DESCRIPTION),
                    parameters == null ? null : parameters.getAsJsonObject()));
        }
        return tools;
    }

    private static ToolChoice readToolChoice(JsonFields f, List<Tool> tools) throws FieldException {
        JsonElement c = f.get("tool_choice");
        if (c == null || c.isJsonNull()) {
            return ToolChoice.AUTO;
        }
        ToolChoice choice;
        if (c.isJsonObject()) {
            choice = ToolChoice.function(new JsonFields(c.getAsJsonObject(), f.prefix() + "tool_choice.").requireString("name"));
        } else {
            String mode = f.optString("tool_choice", 1, 16);
            ToolChoice.Mode m = WireName.parse(ToolChoice.Mode.class, mode).filter(x -> x != ToolChoice.Mode.FUNCTION)
                    .orElseThrow(() -> new FieldException(f.prefix() + "tool_choice", "must be auto, none, required or {\"name\": tool}"));
            choice = new ToolChoice(m, null);
        }
        if (choice.mode() == ToolChoice.Mode.FUNCTION && tools.stream().noneMatch(t -> t.name().equals(choice.name()))) {
            throw new FieldException(f.prefix() + "tool_choice", "names " + choice.name() + ", which is not among the tools");
        }
        if (choice.mode() == ToolChoice.Mode.REQUIRED && tools.isEmpty()) {
            throw new FieldException(f.prefix() + "tool_choice", "required, but no tools are given");
        }
        return choice;
    }

    private static ResponseFormat readFormat(JsonFields f) throws FieldException {
        JsonElement e = f.get("response_format");
        if (e == null || e.isJsonNull()) {
            return ResponseFormat.TEXT;
        }
        if (!e.isJsonObject()) {
            throw new FieldException(f.prefix() + "response_format", "must be an object");
        }
        JsonFields r = new JsonFields(e.getAsJsonObject(), f.prefix() + "response_format.");
        String type = r.requireString("type");
        ResponseFormat.Type t = WireName.parse(ResponseFormat.Type.class, type)
                .orElseThrow(() -> new FieldException(r.prefix() + "type", "must be text, json_object or json_schema"));
        return switch (t) {
            case TEXT -> ResponseFormat.TEXT;
            case JSON_OBJECT -> ResponseFormat.JSON_OBJECT;
            case JSON_SCHEMA -> {
                JsonElement schema = r.get("schema");
                if (schema == null || !schema.isJsonObject()) {
                    throw new FieldException(r.prefix() + "schema", "required: a JSON schema object");
                }
                yield ResponseFormat.schema(schema.getAsJsonObject(), r.optString("name", 1, 64), Boolean.TRUE.equals(r.optBool("strict")));
            }
        };
    }

    @Override
    protected ChatParams readParams(Task task, JsonFields f) throws FieldException {
        List<ChatMessage> messages = new ArrayList<>();
        String system = f.optString("system", 0, Integer.MAX_VALUE);
        if (system != null) {
            messages.add(ChatMessage.system(system));
        }
        List<JsonFields> list = f.optObjects("messages", ChatParams.MAX_MESSAGES);
        String prompt = f.optString("prompt", 0, Integer.MAX_VALUE);
        if (f.get("messages") != null) {
            if (prompt != null) {
                throw new FieldException(f.prefix() + "prompt", "give either messages or prompt, not both");
            }
            if (list.isEmpty()) {
                throw new FieldException(f.prefix() + "messages", "must hold 1 to " + ChatParams.MAX_MESSAGES + " messages");
            }
            int images = 0;
            for (JsonFields m : list) {
                ChatMessage message = readMessage(m);
                images += message.images().size();
                if (images > ChatParams.MAX_IMAGES) {
                    throw new FieldException(m.prefix() + "images", "a job holds at most " + ChatParams.MAX_IMAGES + " images");
                }
                messages.add(message);
            }
        } else if (prompt != null) {
            messages.add(ChatMessage.user(prompt));
        } else {
            throw new FieldException(f.prefix() + "messages", "required (or a prompt string)");
        }
        long text = messages.stream().mapToLong(m -> m.content().length()).sum();
        if (text > MAX_TEXT_CHARS) {
            throw new FieldException(f.prefix() + (prompt != null ? "prompt" : "messages"), "more than " + MAX_TEXT_CHARS
                    + " characters of text (" + text + "); no model's context holds that much");
        }
        String history = ChatParams.toolHistoryProblem(messages);
        if (history != null) {
            throw new FieldException(f.prefix() + "messages", history);
        }
        if (messages.size() > ChatParams.MAX_MESSAGES) {
            throw new FieldException(f.prefix() + "messages", "must hold 1 to " + ChatParams.MAX_MESSAGES + " messages");
        }
        List<Tool> tools = readTools(f);
        return new ChatParams(
                messages,
                f.optDouble("temperature", ChatParams.TEMPERATURE),
                f.optDouble("top_p", ChatParams.TOP_P),
                f.optInt("top_k", ChatParams.TOP_K),
                f.optInt("max_tokens", ChatParams.MAX_TOKENS),
                f.optStringList("stop", ChatParams.MAX_STOP_SEQUENCES, ChatParams.MAX_STOP_LENGTH),
                f.optLong("seed"),
                f.optDouble("presence_penalty", ChatParams.PENALTY),
                f.optDouble("frequency_penalty", ChatParams.PENALTY),
                f.optDouble("repeat_penalty", ChatParams.REPEAT_PENALTY),
                Boolean.TRUE.equals(f.optBool("think")),
                tools,
                readToolChoice(f, tools),
                readFormat(f));
    }

    /**
     * A message on the wire: {@code content} a string when it is one text, else an array of parts
     * ({@code {"type":"text","text"}}, {@code {"type":"image","data":base64}}); tool calls with their arguments as
     * JSON text; the call a tool message answers.
     */
    private static JsonObject writeMessage(ChatMessage m) {
        JsonObject mo = new JsonObject();
        mo.addProperty("role", m.role());
        if (m.parts().size() == 1 && m.parts().get(0).type() == Part.Type.TEXT) {
            mo.addProperty("content", m.content());
        } else {
            JsonArray parts = new JsonArray();
            for (Part part : m.parts()) {
                JsonObject po = new JsonObject();
                po.addProperty("type", part.type().wire());
                switch (part.type()) {
                    case TEXT -> po.addProperty("text", ((Part.Text) part).text());
                    case IMAGE -> po.addProperty("data", Base64Data.encode(((Part.Image) part).data()));
                }
                parts.add(po);
            }
            mo.add("content", parts);
        }
        if (!m.toolCalls().isEmpty()) {
            JsonArray calls = new JsonArray();
            m.toolCalls().forEach(c -> calls.add(toolCall(c)));
            mo.add("tool_calls", calls);
        }
        if (m.toolCallId() != null) {
            mo.addProperty("tool_call_id", m.toolCallId());
        }
        return mo;
    }

    /**
     * A message as {@link #writeMessage} writes it; a device may also put its images beside the text, as Ollama's
     * {@code images} (plain base64 or data URLs), which come after the text.
     */
    private static ChatMessage readMessage(JsonFields m) throws FieldException {
        String role = m.requireString("role");
        if (!ROLES.contains(role)) {
            throw new FieldException(m.prefix() + "role", "must be one of " + ROLES);
        }
        List<Part> parts = new ArrayList<>();
        JsonElement content = m.get("content");
        if (content != null && content.isJsonArray()) {
            for (JsonFields p : m.optObjects("content", ChatParams.MAX_MESSAGES)) {
                String type = p.requireString("type");
                Part.Type t = WireName.parse(Part.Type.class, type)
                        .orElseThrow(() -> new FieldException(p.prefix() + "type", "must be text or image, not '" + type + "'"));
                parts.add(switch (t) {
                    case TEXT -> new Part.Text(p.requireString("text"));
                    case IMAGE -> Part.Image.fromBase64(p.prefix() + "data", p.requireString("data"));
                });
            }
        } else {
            String text = m.optString("content", 0, Integer.MAX_VALUE);
            if (text == null && !role.equals(ChatMessage.ASSISTANT)) {
                throw new FieldException(m.prefix() + "content", "required: a string or an array of parts");
            }
            parts.add(new Part.Text(text == null ? "" : text));
        }
        List<String> images = m.optStringList("images", ChatParams.MAX_IMAGES, ImageCodec.MAX_JOB_BYTES);
        for (int i = 0; i < images.size(); i++) {
            parts.add(Part.Image.fromBase64(m.prefix() + "images[" + i + "]", images.get(i)));
        }
        List<ToolCall> calls = new ArrayList<>();
        for (JsonFields c : m.optObjects("tool_calls", ChatParams.MAX_TOOL_CALLS)) {
            calls.add(new ToolCall(c.requireString("id"), c.requireString("name"), c.requireString("arguments")));
        }
        String toolCallId = m.optString("tool_call_id", 1, 256);
        if (!calls.isEmpty() && !role.equals(ChatMessage.ASSISTANT)) {
            throw new FieldException(m.prefix() + "tool_calls", "only an assistant message makes tool calls");
        }
        if (role.equals(ChatMessage.TOOL) != (toolCallId != null)) {
            throw new FieldException(m.prefix() + "tool_call_id", role.equals(ChatMessage.TOOL)
                    ? "required: the id of the call this tool message answers" : "only a tool message answers a call");
        }
        ChatMessage message = new ChatMessage(role, parts, calls, toolCallId);
        if (!message.images().isEmpty() && !role.equals(ChatMessage.USER)) {
            throw new FieldException(m.prefix() + "content", "images go in user messages (the runtime reads them only there)");
        }
        return message;
    }

    @Override
    protected void writeOutput(ChatOutput out, JsonObject o) {
        o.addProperty("text", out.text());
        o.addProperty("finish_reason", out.finishReason().wire());
        if (out.usage() != null) {
            o.add("usage", out.usage().toJson());
        }
        addIfSet(o, "first_token_ms", out.firstTokenMs());
        if (out.droppedMessages() > 0) {
            o.addProperty("dropped_messages", out.droppedMessages());
        }
        if (out.thinking() != null) {
            o.addProperty("thinking", out.thinking());
        }
        if (!out.toolCalls().isEmpty()) {
            JsonArray calls = new JsonArray();
            out.toolCalls().forEach(c -> calls.add(toolCall(c)));
            o.add("tool_calls", calls);
        }
    }

    private static JsonObject toolCall(ToolCall c) {
        JsonObject co = new JsonObject();
        co.addProperty("id", c.id());
        co.addProperty("name", c.name());
        co.addProperty("arguments", c.arguments());
        return co;
    }

    @Override
    protected ChatOutput readOutput(JsonObject o) {
        FinishReason finish = WireName.parse(FinishReason.class, string(o, "finish_reason")).orElse(FinishReason.STOP);
        List<ToolCall> calls = new ArrayList<>();
        if (o.has("tool_calls") && o.get("tool_calls").isJsonArray()) {
            for (JsonElement e : o.getAsJsonArray("tool_calls")) {
                JsonObject c = e.getAsJsonObject();
                calls.add(new ToolCall(string(c, "id"), string(c, "name"), string(c, "arguments")));
            }
        }
        return new ChatOutput(o.has("text") ? string(o, "text") : "", finish, Usage.fromJson(o.get("usage")),
                o.has("first_token_ms") ? o.get("first_token_ms").getAsLong() : null,
                o.has("dropped_messages") ? o.get("dropped_messages").getAsInt() : 0, string(o, "thinking"), calls);
    }
}
