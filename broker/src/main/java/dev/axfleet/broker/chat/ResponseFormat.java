package dev.axfleet.broker.chat;

import com.google.gson.JsonObject;
import dev.axfleet.broker.WireName;
import java.util.Objects;

/**
 * The form the answer must take: text, any JSON object (OpenAI {@code json_object}, Ollama {@code format: "json"}), or
 * JSON valid against a schema (OpenAI {@code json_schema}, Ollama {@code format: {schema}}). The card's runtime cannot
 * constrain its sampling, so the worker asks for JSON, validates what comes, and retries a bounded number of times
 * (docs/decisions.md): validate-and-retry, not constrained decoding.
 *
 * @param schema the JSON schema for {@link Type#JSON_SCHEMA}; null otherwise
 * @param name   the schema's name (OpenAI's {@code json_schema.name}); null when none was given
 * @param strict OpenAI's {@code strict}: accepted, and honoured the only way available (the answer is validated either way)
 */
public record ResponseFormat(Type type, JsonObject schema, String name, boolean strict) {
    public static final ResponseFormat TEXT = new ResponseFormat(Type.TEXT, null, null, false);
    public static final ResponseFormat JSON_OBJECT = new ResponseFormat(Type.JSON_OBJECT, null, null, false);

    public enum Type implements WireName {
        TEXT, JSON_OBJECT, JSON_SCHEMA
    }

    public ResponseFormat {
        Objects.requireNonNull(type, "type");
        if ((type == Type.JSON_SCHEMA) != (schema != null)) {
            throw new IllegalArgumentException("a json_schema format carries its schema, and only it does");
        }
        schema = schema == null ? null : schema.deepCopy();
    }

    public static ResponseFormat schema(JsonObject schema, String name, boolean strict) {
        return new ResponseFormat(Type.JSON_SCHEMA, schema, name, strict);
    }

    public boolean json() {
        return type != Type.TEXT;
    }
}
