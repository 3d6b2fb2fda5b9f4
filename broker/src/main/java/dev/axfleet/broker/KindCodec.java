package dev.axfleet.broker;

import com.google.gson.JsonObject;

/**
 * How one kind of work is written on the wire: its params inside a job's {@code params} object, and its output at
 * the top level of a result beside the common fields. Jobs come from anyone, so {@link #readParams} checks every
 * field and names the one at fault; outputs are written by workers and read leniently.
 */
public abstract class KindCodec<P extends TaskParams, O extends TaskOutput> {
    private final Class<P> paramsType;
    private final Class<O> outputType;

    protected KindCodec(Class<P> paramsType, Class<O> outputType) {
        this.paramsType = paramsType;
        this.outputType = outputType;
    }

    /** The largest job payload of this kind, in bytes; larger ones are answered with an error, not run. */
    public abstract int maxJobBytes();

    protected abstract void writeParams(P params, JsonObject into);

    /** Reads and checks the params of a job of {@code task}; {@code f} names fields as {@code params.x}. */
    protected abstract P readParams(Task task, JsonFields f) throws FieldException;

    protected abstract void writeOutput(O output, JsonObject into);

    protected abstract O readOutput(JsonObject result);

    final JsonObject encodeParams(TaskParams params) {
        JsonObject o = new JsonObject();
        writeParams(paramsType.cast(params), o);
        return o;
    }

    final TaskParams decodeParams(Task task, JsonFields f) throws FieldException {
        return readParams(task, f);
    }

    final void encodeOutput(TaskOutput output, JsonObject into) {
        writeOutput(outputType.cast(output), into);
    }

    final TaskOutput decodeOutput(JsonObject result) {
        return readOutput(result);
    }

    protected static void addIfSet(JsonObject o, String key, Number value) {
        if (value != null) {
            o.addProperty(key, value);
        }
    }

    protected static String string(JsonObject o, String key) {
        return o.has(key) && !o.get(key).isJsonNull() ? o.get(key).getAsString() : null;
    }
}
