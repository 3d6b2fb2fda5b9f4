package dev.axfleet.broker.embed;

import dev.axfleet.broker.Kind;
import dev.axfleet.broker.TaskOutput;
import dev.axfleet.broker.Usage;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Base64;
import java.util.List;

/**
 * One unit-length vector per input, in input order.
 *
 * @param usage  the inputs' tokens (no completion tokens)
 * @param format how the result carries the vectors on the wire (the job's {@code encoding_format})
 */
public record Embeddings(List<float[]> vectors, Usage usage, EmbedParams.Format format) implements TaskOutput {
    public Embeddings {
        vectors = List.copyOf(vectors);
        java.util.Objects.requireNonNull(format, "format");
    }

    @Override
    public Kind kind() {
        return Kind.EMBEDDING;
    }

    @Override
    public String logLine() {
        return "inputs=" + vectors.size() + " dimensions=" + dimensions()
                + " tokens=" + (usage == null ? "-" : usage.promptTokens() + (usage.estimated() ? "~" : ""));
    }

    public int dimensions() {
        return vectors.isEmpty() ? 0 : vectors.get(0).length;
    }

    /** OpenAI's base64 form: the vector's float32 values, little-endian. */
    public static String base64(float[] v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) {
            b.putFloat(f);
        }
        return Base64.getEncoder().encodeToString(b.array());
    }

    /** The inverse of {@link #base64(float[])}. */
    public static float[] fromBase64(String s) {
        ByteBuffer b = ByteBuffer.wrap(Base64.getDecoder().decode(s)).order(ByteOrder.LITTLE_ENDIAN);
        float[] v = new float[b.remaining() / 4];
        for (int i = 0; i < v.length; i++) {
            v[i] = b.getFloat();
        }
        return v;
    }
}
