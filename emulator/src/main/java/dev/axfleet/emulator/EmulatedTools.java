package dev.axfleet.emulator;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import java.util.Set;

/**
 * Tool calls as {@code axllm serve} documents them (AXERA-TECH/ax-llm:docs/tool_calling.md@0c74c77): {@code tools} and
 * {@code tool_choice} (auto, none, required, a named function) on {@code /v1/chat/completions}, honoured for the
 * tokenizer types of the Qwen3 family and MiniCPM-V-4.6 and ignored for the rest (the model answers in text); a call comes
 * back as {@code message.tool_calls} with {@code content} null and {@code finish_reason} "tool_calls", ids
 * {@code call_<n>_<name>}, arguments a JSON string; streamed, as one {@code delta.tool_calls} chunk and a finish chunk.
 *
 * <p>What the emulated model does (an emulated model, not a language model: docs/hardware.md A18): given tools it may
 * call, on a turn that does not answer a tool, it calls the named tool, else the first, with arguments made from its
 * schema (every property: a string {@code "emulated"}, numbers 1, true, the first of an enum, nested objects alike); on a
 * turn after a tool's answer it answers in text, quoting it.
 */
final class EmulatedTools {
    /** docs/tool_calling.md's "Supported models": tokenizer types handled by the Qwen3 tokenizer, and MiniCPM-V-4.6's. */
    static final Set<String> TOKENIZERS = Set.of("Qwen3", "Qwen3VL", "Qwen2_5", "Qwen3_5", "Qwen3_5VL", "Qwen3Omni", "MiniCPMV46",
            "MiniCPMV46VL");

    private EmulatedTools() {
    }

    /** The call the emulated model makes, as a {@code tool_calls[]} item without {@code index}, or null for a text answer. */
    static JsonObject call(JsonObject req, String tokenizerType, JsonArray messages) {
        JsonElement tools = req.get("tools");
        if (!TOKENIZERS.contains(tokenizerType) || tools == null || !tools.isJsonArray() || tools.getAsJsonArray().isEmpty()) {
            return null;
        }
        JsonElement choice = req.get("tool_choice");
        if (choice != null && choice.isJsonPrimitive() && choice.getAsString().equals("none")) {
            return null;
        }
        if (messages != null && !messages.isEmpty()) {
            JsonObject last = messages.get(messages.size() - 1).getAsJsonObject();
            if (last.has("role") && "tool".equals(last.get("role").getAsString())) {
                return null;
            }
        }
        String wanted = choice != null && choice.isJsonObject() && choice.getAsJsonObject().has("function")
                ? choice.getAsJsonObject().getAsJsonObject("function").get("name").getAsString() : null;
        JsonObject fn = null;
        for (JsonElement t : tools.getAsJsonArray()) {
            JsonObject f = t.getAsJsonObject().getAsJsonObject("function");
            if (f != null && (wanted == null || wanted.equals(f.get("name").getAsString()))) {
                fn = f;
                break;
            }
        }
        if (fn == null) {
            return null;
        }
        String name = fn.get("name").getAsString();
        JsonElement schema = fn.get("parameters");
        JsonObject function = new JsonObject();
        function.addProperty("name", name);
        function.addProperty("arguments", value(schema == null ? new JsonObject() : schema, 0).toString());
        JsonObject call = new JsonObject();
        call.addProperty("id", "call_0_" + name);
        call.addProperty("type", "function");
        call.add("function", function);
        return call;
    }

    /** A value the schema takes. */
    static JsonElement value(JsonElement schema, int depth) {
        if (!schema.isJsonObject() || depth > 8) {
            return new JsonPrimitive("emulated");
        }
        JsonObject s = schema.getAsJsonObject();
        if (s.has("const")) {
            return s.get("const");
        }
        if (s.has("enum") && s.get("enum").isJsonArray() && !s.getAsJsonArray("enum").isEmpty()) {
            return s.getAsJsonArray("enum").get(0);
        }
        for (String k : new String[] {"anyOf", "oneOf", "allOf"}) {
            if (s.has(k) && s.get(k).isJsonArray() && !s.getAsJsonArray(k).isEmpty()) {
                return value(s.getAsJsonArray(k).get(0), depth + 1);
            }
        }
        String type = s.has("type") && s.get("type").isJsonPrimitive() ? s.get("type").getAsString()
                : s.has("type") && s.get("type").isJsonArray() ? s.getAsJsonArray("type").get(0).getAsString()
                : s.has("properties") ? "object" : "string";
        return switch (type) {
            case "object" -> {
                JsonObject o = new JsonObject();
                if (s.has("properties") && s.get("properties").isJsonObject()) {
                    for (var e : s.getAsJsonObject("properties").entrySet()) {
                        o.add(e.getKey(), value(e.getValue(), depth + 1));
                    }
                }
                yield o;
            }
            case "array" -> {
                JsonArray a = new JsonArray();
                int min = s.has("minItems") ? s.get("minItems").getAsInt() : 1;
                for (int i = 0; i < Math.min(min, 3); i++) {
                    a.add(value(s.has("items") ? s.get("items") : new JsonObject(), depth + 1));
                }
                yield a;
            }
            case "integer" -> new JsonPrimitive(s.has("minimum") ? s.get("minimum").getAsLong() : 1);
            case "number" -> new JsonPrimitive(s.has("minimum") ? s.get("minimum").getAsDouble() : 1.5);
            case "boolean" -> new JsonPrimitive(true);
            case "null" -> com.google.gson.JsonNull.INSTANCE;
            default -> new JsonPrimitive("emulated");
        };
    }
}
