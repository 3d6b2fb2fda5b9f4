package dev.axfleet.broker.embed;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.axfleet.broker.FieldException;
import dev.axfleet.broker.JsonFields;
import dev.axfleet.broker.KindCodec;
import dev.axfleet.broker.Task;
import dev.axfleet.broker.Usage;
import dev.axfleet.broker.WireName;
import java.util.ArrayList;
import java.util.List;

/**
 * Embeddings on the wire: {@code params.input} (a string or an array of strings), {@code dimensions}, {@code truncate},
 * {@code encoding_format}; results carry {@code embeddings} (arrays of numbers, or base64 strings) and {@code usage}.
 */
public final class EmbedCodec extends KindCodec<EmbedParams, Embeddings> {
    public static final EmbedCodec INSTANCE = new EmbedCodec();
    /** Texts only, as a chat job. */
    public static final int MAX_JOB_BYTES = 1 << 20;

    private EmbedCodec() {
        super(EmbedParams.class, Embeddings.class);
    }

    @Override
    public int maxJobBytes() {
        return MAX_JOB_BYTES;
    }

    @Override
    protected void writeParams(EmbedParams p, JsonObject o) {
        JsonArray input = new JsonArray();
        p.input().forEach(input::add);
        o.add("input", input);
        addIfSet(o, "dimensions", p.dimensions());
        o.addProperty("truncate", p.truncate());
        o.addProperty("encoding_format", p.format().wire());
    }

    @Override
    protected EmbedParams readParams(Task task, JsonFields f) throws FieldException {
        return new EmbedParams(inputs(f, "input"), f.optInt("dimensions", EmbedParams.DIMENSIONS),
                !Boolean.FALSE.equals(f.optBool("truncate")), format(f, "encoding_format"));
    }

    /** A string or an array of 1 to {@link EmbedParams#MAX_INPUTS} strings, each within its length. */
    public static List<String> inputs(JsonFields f, String key) throws FieldException {
        JsonElement e = f.get(key);
        String field = f.prefix() + key;
        if (e == null) {
            throw new FieldException(field, "required: a string or an array of strings");
        }
        List<String> out = new ArrayList<>();
        if (e.isJsonPrimitive() && e.getAsJsonPrimitive().isString()) {
            out.add(e.getAsString());
        } else if (e.isJsonArray()) {
            if (e.getAsJsonArray().size() > EmbedParams.MAX_INPUTS) {
                throw new FieldException(field, "at most " + EmbedParams.MAX_INPUTS + " inputs");
            }
            for (JsonElement s : e.getAsJsonArray()) {
                if (!s.isJsonPrimitive() || !s.getAsJsonPrimitive().isString()) {
                    throw new FieldException(field, "must be a string or an array of strings (token arrays are not taken)");
                }
                out.add(s.getAsString());
            }
        } else {
            throw new FieldException(field, "must be a string or an array of strings");
        }
        if (out.isEmpty()) {
            throw new FieldException(field, "must not be empty");
        }
        for (int i = 0; i < out.size(); i++) {
            if (out.get(i).isEmpty()) {
                throw new FieldException(field, "input " + i + " is empty");
            }
            if (out.get(i).length() > EmbedParams.MAX_INPUT_CHARS) {
                throw new FieldException(field, "input " + i + " is longer than " + EmbedParams.MAX_INPUT_CHARS + " characters");
            }
        }
        return out;
    }

    /** OpenAI's {@code encoding_format}: float (the default) or base64. */
    public static EmbedParams.Format format(JsonFields f, String key) throws FieldException {
        String s = f.optString(key, 1, 16);
        if (s == null) {
            return EmbedParams.Format.FLOAT;
        }
        return WireName.parse(EmbedParams.Format.class, s)
                .orElseThrow(() -> new FieldException(f.prefix() + key, "must be float or base64"));
    }

    @Override
    protected void writeOutput(Embeddings out, JsonObject o) {
        JsonArray list = new JsonArray();
        for (float[] v : out.vectors()) {
            if (out.format() == EmbedParams.Format.BASE64) {
                list.add(Embeddings.base64(v));
            } else {
                JsonArray a = new JsonArray();
                for (float x : v) {
                    a.add(x);
                }
                list.add(a);
            }
        }
        o.add("embeddings", list);
        o.addProperty("dimensions", out.dimensions());
        if (out.usage() != null) {
            o.add("usage", out.usage().toJson());
        }
    }

    @Override
    protected Embeddings readOutput(JsonObject o) {
        List<float[]> vectors = new ArrayList<>();
        EmbedParams.Format format = EmbedParams.Format.FLOAT;
        for (JsonElement e : o.getAsJsonArray("embeddings")) {
            if (e.isJsonPrimitive()) {
                format = EmbedParams.Format.BASE64;
                vectors.add(Embeddings.fromBase64(e.getAsString()));
            } else {
                JsonArray a = e.getAsJsonArray();
                float[] v = new float[a.size()];
                for (int i = 0; i < v.length; i++) {
                    v[i] = a.get(i).getAsFloat();
                }
                vectors.add(v);
            }
        }
        return new Embeddings(vectors, Usage.fromJson(o.get("usage")), format);
    }
}
