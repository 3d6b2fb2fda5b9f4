package dev.axfleet.broker;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import java.io.StringReader;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Typed, checked access to the fields of one JSON object from outside (a job, an HTTP request): every
 * wrong type or range becomes a {@link FieldException} naming the field as the sender spelled it.
 * {@code prefix} makes nested names such as {@code params.top_p}.
 */
public record JsonFields(JsonObject o, String prefix) {
    /**
     * Deeper nesting than this is refused before it costs stack. A request's own fields nest a few levels; a tool's
     * parameters or a response's JSON schema nest deeper (a job wraps them in params, tools[], function, parameters,
     * then the schema's own objects), so the bound leaves them room and still stops a hostile 10,000 levels.
     */
    public static final int MAX_DEPTH = 64;

    public static JsonFields of(JsonObject o) {
        return new JsonFields(o, "");
    }

    /**
     * Parses strict JSON that must be an object with at most {@link #MAX_DEPTH} levels of nesting, reading the text
     * once: gson's reader refuses the level past its nesting limit as it opens it, before it costs stack.
     */
    public static JsonObject parseObject(String text) {
        JsonReader reader = new JsonReader(new StringReader(text));
        reader.setStrictness(Strictness.STRICT);
        reader.setNestingLimit(MAX_DEPTH);
        JsonElement e = JsonParser.parseReader(reader);
        if (!e.isJsonObject()) {
            throw new JsonParseException("not an object");
        }
        return e.getAsJsonObject();
    }

    /** The value, or null when absent or JSON null. */
    public JsonElement get(String key) {
        JsonElement e = o.get(key);
        return e == null || e instanceof JsonNull ? null : e;
    }

    public String requireString(String key) throws FieldException {
        String s = optString(key, 0, Integer.MAX_VALUE);
        if (s == null) {
            throw new FieldException(prefix + key, "required");
        }
        return s;
    }

    public String optString(String key, int min, int max) throws FieldException {
        JsonElement e = get(key);
        if (e == null) {
            return null;
        }
        if (!(e instanceof JsonPrimitive p) || !p.isString()) {
            throw new FieldException(prefix + key, "must be a string");
        }
        String s = p.getAsString();
        if (s.length() < min || s.length() > max) {
            throw new FieldException(prefix + key, "must be " + min + " to " + max + " characters");
        }
        return s;
    }

    public JsonObject requireObject(String key) throws FieldException {
        JsonElement e = get(key);
        if (e == null) {
            throw new FieldException(prefix + key, "required");
        }
        if (!e.isJsonObject()) {
            throw new FieldException(prefix + key, "must be an object");
        }
        return e.getAsJsonObject();
    }

    public Boolean optBool(String key) throws FieldException {
        JsonElement e = get(key);
        if (e == null) {
            return null;
        }
        if (!(e instanceof JsonPrimitive p) || !p.isBoolean()) {
            throw new FieldException(prefix + key, "must be true or false");
        }
        return p.getAsBoolean();
    }

    public Double optDouble(String key, double min, double max) throws FieldException {
        JsonElement e = get(key);
        if (e == null) {
            return null;
        }
        double d = number(key, e).doubleValue();
        if (!(d >= min && d <= max)) {
            throw new FieldException(prefix + key, "must be a number from " + min + " to " + max);
        }
        return d;
    }

    /** A number within {@code range} (the bounds its params record owns), or null when absent. */
    public Double optDouble(String key, Range range) throws FieldException {
        return optDouble(key, range.min(), range.max());
    }

    /** An integer within {@code range} (the bounds its params record owns), or null when absent. */
    public Integer optInt(String key, Range range) throws FieldException {
        return optInt(key, range.minInt(), range.maxInt());
    }

    public Integer optInt(String key, int min, int max) throws FieldException {
        Long l = optLong(key);
        if (l == null) {
            return null;
        }
        if (l < min || l > max) {
            throw new FieldException(prefix + key, "must be an integer from " + min + " to " + max);
        }
        return l.intValue();
    }

    public Long optLong(String key) throws FieldException {
        JsonElement e = get(key);
        if (e == null) {
            return null;
        }
        Number n = number(key, e);
        double d = n.doubleValue();
        if (d != Math.rint(d) || Math.abs(d) > 9.007199254740991E15) {
            throw new FieldException(prefix + key, "must be an integer");
        }
        return n.longValue();
    }

    public Instant optInstant(String key) throws FieldException {
        Long ms = optLong(key);
        if (ms == null) {
            return null;
        }
        if (ms < 0) {
            throw new FieldException(prefix + key, "must be milliseconds since 1970 (UTC)");
        }
        return Instant.ofEpochMilli(ms);
    }

    /**
     * The objects of an array field, each as JsonFields named like {@code messages[2].}; empty when the
     * field is absent.
     */
    public List<JsonFields> optObjects(String key, int max) throws FieldException {
        JsonElement e = get(key);
        if (e == null) {
            return List.of();
        }
        if (!e.isJsonArray()) {
            throw new FieldException(prefix + key, "must be an array");
        }
        JsonArray array = e.getAsJsonArray();
        if (array.size() > max) {
            throw new FieldException(prefix + key, "at most " + max + " items");
        }
        List<JsonFields> out = new ArrayList<>(array.size());
        for (int i = 0; i < array.size(); i++) {
            String at = prefix + key + "[" + i + "]";
            if (!array.get(i).isJsonObject()) {
                throw new FieldException(at, "must be an object");
            }
            out.add(new JsonFields(array.get(i).getAsJsonObject(), at + "."));
        }
        return out;
    }

    /** A string or an array of strings (stop sequences), at most {@code maxCount} of 1 to {@code maxLength} characters. */
    public List<String> optStringList(String key, int maxCount, int maxLength) throws FieldException {
        JsonElement e = get(key);
        if (e == null) {
            return List.of();
        }
        List<String> out = new ArrayList<>();
        if (e instanceof JsonPrimitive p && p.isString()) {
            out.add(p.getAsString());
        } else if (e.isJsonArray()) {
            for (JsonElement s : e.getAsJsonArray()) {
                if (!(s instanceof JsonPrimitive p) || !p.isString()) {
                    throw new FieldException(prefix + key, "must be a string or an array of strings");
                }
                out.add(p.getAsString());
            }
        } else {
            throw new FieldException(prefix + key, "must be a string or an array of strings");
        }
        if (out.size() > maxCount) {
            throw new FieldException(prefix + key, "at most " + maxCount + " items");
        }
        for (String s : out) {
            if (s.isEmpty() || s.length() > maxLength) {
                throw new FieldException(prefix + key, "each sequence must be 1 to " + maxLength + " characters");
            }
        }
        return out;
    }

    private Number number(String key, JsonElement e) throws FieldException {
        if (!(e instanceof JsonPrimitive p) || !p.isNumber()) {
            throw new FieldException(prefix + key, "must be a number");
        }
        return p.getAsNumber();
    }
}
