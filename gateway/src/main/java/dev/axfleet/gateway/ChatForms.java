package dev.axfleet.gateway;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.networknt.schema.InputFormat;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import dev.axfleet.broker.FieldException;
import dev.axfleet.broker.JsonFields;
import dev.axfleet.broker.chat.ResponseFormat;
import dev.axfleet.broker.chat.Tool;
import dev.axfleet.broker.chat.ToolChoice;
import java.util.ArrayList;
import java.util.List;

/**
 * Tools and answer formats as OpenAI's and Ollama's chat requests spell them, read once for both facades: {@code tools}
 * ({@code [{"type":"function","function":{name, description, parameters}}]}, the same in both), OpenAI's
 * {@code tool_choice} and {@code response_format}, Ollama's {@code format}. A schema (a tool's parameters, a response
 * schema) must be a JSON schema: it is checked against the 2020-12 meta-schema here, so a broken one is a 400 before
 * the job is queued.
 */
public final class ChatForms {
    private static final Schema META = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12)
            .getSchema(SchemaLocation.of("https://json-schema.org/draft/2020-12/schema"));

    private ChatForms() {
    }

    public static List<Tool> tools(JsonFields f) throws FieldException {
        JsonElement e = f.get("tools");
        if (e == null || e.isJsonNull()) {
            return List.of();
        }
        List<Tool> tools = new ArrayList<>();
        for (JsonFields t : f.optObjects("tools", Tool.MAX_TOOLS)) {
            String type = t.optString("type", 1, 32);
            if (type != null && !type.equals("function")) {
                throw new FieldException(t.prefix() + "type", "only function tools are supported, not '" + type + "'");
            }
            JsonElement fe = t.get("function");
            if (fe == null || !fe.isJsonObject()) {
                throw new FieldException(t.prefix() + "function", "required: {name, description, parameters}");
            }
            JsonFields fn = new JsonFields(fe.getAsJsonObject(), t.prefix() + "function.");
            String name = fn.optString("name", 0, 256);
            if (name == null || !Tool.NAME.matcher(name).matches()) {
                throw new FieldException(fn.prefix() + "name", "required: 1 to 64 letters, digits, _ or -");
            }
            if (tools.stream().anyMatch(x -> x.name().equals(name))) {
                throw new FieldException(fn.prefix() + "name", "two tools are called " + name);
            }
            JsonElement parameters = fn.get("parameters");
            if (parameters != null && !parameters.isJsonNull()) {
                if (!parameters.isJsonObject()) {
                    throw new FieldException(fn.prefix() + "parameters", "must be a JSON schema object");
                }
                schema(fn.prefix() + "parameters", parameters.getAsJsonObject());
            }
            tools.add(new Tool(name, fn.optString("description", 0, Tool.MAX_DESCRIPTION),
                    parameters == null || parameters.isJsonNull() ? null : parameters.getAsJsonObject()));
        }
        return tools;
    }

    /** OpenAI's {@code tool_choice}: none, auto, required, or {@code {"type":"function","function":{"name"}}}. */
    public static ToolChoice toolChoice(JsonFields f, List<Tool> tools) throws FieldException {
        JsonElement c = f.get("tool_choice");
        if (c == null || c.isJsonNull()) {
            return ToolChoice.AUTO;
        }
        ToolChoice choice;
        if (c.isJsonObject()) {
            JsonFields o = new JsonFields(c.getAsJsonObject(), "tool_choice.");
            JsonElement fn = o.get("function");
            if (fn == null || !fn.isJsonObject()) {
                throw new FieldException("tool_choice", "an object choice is {\"type\": \"function\", \"function\": {\"name\": ...}}");
            }
            choice = ToolChoice.function(new JsonFields(fn.getAsJsonObject(), "tool_choice.function.").requireString("name"));
        } else {
            String mode = f.optString("tool_choice", 1, 16);
            choice = switch (mode) {
                case "auto" -> ToolChoice.AUTO;
                case "none" -> new ToolChoice(ToolChoice.Mode.NONE, null);
                case "required" -> new ToolChoice(ToolChoice.Mode.REQUIRED, null);
                default -> throw new FieldException("tool_choice", "must be none, auto, required or a function");
            };
        }
        if (choice.mode() == ToolChoice.Mode.FUNCTION && tools.stream().noneMatch(t -> t.name().equals(choice.name()))) {
            throw new FieldException("tool_choice", "names " + choice.name() + ", which is not among the tools");
        }
        if (choice.mode() == ToolChoice.Mode.REQUIRED && tools.isEmpty()) {
            throw new FieldException("tool_choice", "required, but no tools are given");
        }
        return choice;
    }

    /** OpenAI's {@code response_format}: text, json_object, or {@code json_schema: {name, schema, strict}}. */
    public static ResponseFormat openAiFormat(JsonFields f) throws FieldException {
        JsonElement e = f.get("response_format");
        if (e == null || e.isJsonNull()) {
            return ResponseFormat.TEXT;
        }
        if (!e.isJsonObject()) {
            throw new FieldException("response_format", "must be an object with a type");
        }
        JsonFields r = new JsonFields(e.getAsJsonObject(), "response_format.");
        String type = r.requireString("type");
        return switch (type) {
            case "text" -> ResponseFormat.TEXT;
            case "json_object" -> ResponseFormat.JSON_OBJECT;
            case "json_schema" -> {
                JsonElement js = r.get("json_schema");
                if (js == null || !js.isJsonObject()) {
                    throw new FieldException("response_format.json_schema", "required: {name, schema, strict}");
                }
                JsonFields j = new JsonFields(js.getAsJsonObject(), "response_format.json_schema.");
                JsonElement schema = j.get("schema");
                if (schema == null || !schema.isJsonObject()) {
                    throw new FieldException(j.prefix() + "schema", "required: a JSON schema object");
                }
                schema(j.prefix() + "schema", schema.getAsJsonObject());
                yield ResponseFormat.schema(schema.getAsJsonObject(), j.optString("name", 1, 64), Boolean.TRUE.equals(j.optBool("strict")));
            }
            default -> throw new FieldException("response_format.type", "must be text, json_object or json_schema");
        };
    }

    /** Ollama's {@code format}: {@code "json"}, a JSON schema, or empty for text (ollama/ollama docs/api.md). */
    public static ResponseFormat ollamaFormat(JsonFields f) throws FieldException {
        JsonElement e = f.get("format");
        if (e == null || e.isJsonNull() || e.isJsonPrimitive() && e.getAsString().isEmpty()) {
            return ResponseFormat.TEXT;
        }
        if (e.isJsonPrimitive() && e.getAsString().equals("json")) {
            return ResponseFormat.JSON_OBJECT;
        }
        if (!e.isJsonObject()) {
            throw new FieldException("format", "must be \"json\" or a JSON schema object");
        }
        schema("format", e.getAsJsonObject());
        return ResponseFormat.schema(e.getAsJsonObject(), null, true);
    }

    /** A 400 naming {@code field} when {@code schema} is not a JSON schema. */
    public static void schema(String field, JsonObject schema) throws FieldException {
        List<String> errors = META.validate(schema.toString(), InputFormat.JSON).stream().map(Object::toString).limit(5).toList();
        if (!errors.isEmpty()) {
            throw new FieldException(field, "not a JSON schema (2020-12 meta-schema): " + String.join("; ", errors));
        }
    }
}
