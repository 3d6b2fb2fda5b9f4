package dev.axfleet.broker.chat;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.axfleet.broker.FieldException;
import dev.axfleet.broker.JsonFields;
import dev.axfleet.broker.KindCodec;
import dev.axfleet.broker.Task;
import dev.axfleet.broker.Usage;
import dev.axfleet.broker.WireName;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** Chat on the wire: {@code params.messages} (or a bare {@code prompt}), sampling fields; results carry the text. */
public final class ChatCodec extends KindCodec<ChatParams, ChatOutput> {
    public static final ChatCodec INSTANCE = new ChatCodec();
    /** A chat job is text: 1 MiB holds any conversation a runtime's context can. */
    public static final int MAX_JOB_BYTES = 1 << 20;
    private static final Set<String> ROLES = Set.of(ChatMessage.SYSTEM, ChatMessage.USER, ChatMessage.ASSISTANT);

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
            JsonObject mo = new JsonObject();
            mo.addProperty("role", m.role());
            mo.addProperty("content", m.content());
            messages.add(mo);
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
            for (JsonFields m : list) {
                String role = m.requireString("role");
                if (!ROLES.contains(role)) {
                    throw new FieldException(m.prefix() + "role", "must be one of " + ROLES);
                }
                messages.add(new ChatMessage(role, m.requireString("content")));
            }
        } else if (prompt != null) {
            messages.add(ChatMessage.user(prompt));
        } else {
            throw new FieldException(f.prefix() + "messages", "required (or a prompt string)");
        }
        if (messages.size() > ChatParams.MAX_MESSAGES) {
            throw new FieldException(f.prefix() + "messages", "must hold 1 to " + ChatParams.MAX_MESSAGES + " messages");
        }
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
                Boolean.TRUE.equals(f.optBool("think")));
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
    }

    @Override
    protected ChatOutput readOutput(JsonObject o) {
        FinishReason finish = WireName.parse(FinishReason.class, string(o, "finish_reason")).orElse(FinishReason.STOP);
        return new ChatOutput(o.has("text") ? string(o, "text") : "", finish, Usage.fromJson(o.get("usage")),
                o.has("first_token_ms") ? o.get("first_token_ms").getAsLong() : null,
                o.has("dropped_messages") ? o.get("dropped_messages").getAsInt() : 0, string(o, "thinking"));
    }
}
