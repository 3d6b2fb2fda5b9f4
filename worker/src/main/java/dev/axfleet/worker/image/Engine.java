package dev.axfleet.worker.image;

import com.sun.jna.Pointer;
import com.sun.jna.ptr.IntByReference;
import com.sun.jna.ptr.LongByReference;
import com.sun.jna.ptr.PointerByReference;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One loaded model (an {@code .axmodel}) with its IO described by the runtime and buffers allocated once: device
 * buffers set on its {@code axclrtEngineIO}, pinned host buffers ({@code axclrtMallocHost}) to copy through.
 * Inputs are given in the model's input order as {@code float[]} or {@code int[]}; outputs come back as
 * {@code float[]} in its output order. Used only on its {@link AxclDevice}'s thread.
 */
public final class Engine {
    /** One input or output as the runtime describes it. */
    public record Tensor(String name, int dataType, int[] dims, long bytes, Pointer device, Pointer host) {
        public long elements() {
            return bytes / (dataType == AxclEngineApi.DATA_TYPE_UINT8 ? 1 : 4);
        }

        @Override
        public String toString() {
            return name + Arrays.toString(dims);
        }
    }

    private final String name;
    private final long modelId;
    private final long contextId;
    private final Pointer ioInfo;
    private final Pointer io;
    private final List<Tensor> inputs;
    private final List<Tensor> outputs;
    private final AxclEngineApi rt;
    private long lastCardNanos;

    private Engine(AxclEngineApi rt, String name, long modelId, long contextId, Pointer ioInfo, Pointer io, List<Tensor> inputs, List<Tensor> outputs) {
        this.rt = rt;
        this.name = name;
        this.modelId = modelId;
        this.contextId = contextId;
        this.ioInfo = ioInfo;
        this.io = io;
        this.inputs = inputs;
        this.outputs = outputs;
    }

    static Engine load(AxclEngineApi rt, Path model) {
        String call = "axclrtEngineLoadFromFile(" + model + ")";
        LongByReference id = new LongByReference();
        AxclException.check(call, rt.axclrtEngineLoadFromFile(model.toString(), id));
        LongByReference ctx = new LongByReference();
        AxclException.check("axclrtEngineCreateContext", rt.axclrtEngineCreateContext(id.getValue(), ctx));
        PointerByReference info = new PointerByReference();
        AxclException.check("axclrtEngineGetIOInfo", rt.axclrtEngineGetIOInfo(id.getValue(), info));
        PointerByReference io = new PointerByReference();
        AxclException.check("axclrtEngineCreateIO", rt.axclrtEngineCreateIO(info.getValue(), io));
        List<Tensor> in = new ArrayList<>();
        List<Tensor> out = new ArrayList<>();
        for (int i = 0; i < rt.axclrtEngineGetNumInputs(info.getValue()); i++) {
            in.add(tensor(rt, info.getValue(), io.getValue(), i, true));
        }
        for (int i = 0; i < rt.axclrtEngineGetNumOutputs(info.getValue()); i++) {
            out.add(tensor(rt, info.getValue(), io.getValue(), i, false));
        }
        return new Engine(rt, model.getFileName().toString(), id.getValue(), ctx.getValue(), info.getValue(), io.getValue(),
                List.copyOf(in), List.copyOf(out));
    }

    private static Tensor tensor(AxclEngineApi rt, Pointer info, Pointer io, int index, boolean input) {
        String name = input ? rt.axclrtEngineGetInputNameByIndex(info, index) : rt.axclrtEngineGetOutputNameByIndex(info, index);
        long bytes = input ? rt.axclrtEngineGetInputSizeByIndex(info, 0, index) : rt.axclrtEngineGetOutputSizeByIndex(info, 0, index);
        AxclEngineApi.IODims dims = new AxclEngineApi.IODims();
        AxclException.check("axclrtEngineGet" + (input ? "Input" : "Output") + "Dims(" + name + ")",
                input ? rt.axclrtEngineGetInputDims(info, 0, index, dims) : rt.axclrtEngineGetOutputDims(info, 0, index, dims));
        IntByReference type = new IntByReference();
        AxclException.check("axclrtEngineGet" + (input ? "Input" : "Output") + "DataType(" + name + ")",
                input ? rt.axclrtEngineGetInputDataType(info, index, type) : rt.axclrtEngineGetOutputDataType(info, index, type));
        PointerByReference device = new PointerByReference();
        AxclException.check("axclrtMalloc(" + bytes + ")", rt.axclrtMalloc(device, bytes, AxclEngineApi.AXCL_MEM_MALLOC_NORMAL_ONLY));
        PointerByReference host = new PointerByReference();
        AxclException.check("axclrtMallocHost(" + bytes + ")", rt.axclrtMallocHost(host, bytes));
        AxclException.check("axclrtEngineSet" + (input ? "Input" : "Output") + "BufferByIndex(" + name + ")",
                input ? rt.axclrtEngineSetInputBufferByIndex(io, index, device.getValue(), bytes)
                        : rt.axclrtEngineSetOutputBufferByIndex(io, index, device.getValue(), bytes));
        return new Tensor(name, type.getValue(), Arrays.copyOf(dims.dims, dims.dimCount), bytes, device.getValue(), host.getValue());
    }

    public String name() {
        return name;
    }

    public List<Tensor> inputs() {
        return inputs;
    }

    public List<Tensor> outputs() {
        return outputs;
    }

    /** {@code byName} in this engine's input order; a missing or unknown name is an error naming the inputs it has. */
    Object[] ordered(java.util.Map<String, Object> byName) {
        Object[] values = new Object[inputs.size()];
        for (int i = 0; i < values.length; i++) {
            values[i] = byName.get(inputs.get(i).name());
            if (values[i] == null) {
                throw new IllegalArgumentException(name + " has inputs " + inputs + "; none given for " + inputs.get(i).name());
            }
        }
        if (byName.size() != values.length) {
            throw new IllegalArgumentException(name + " has inputs " + inputs + ", given " + byName.keySet());
        }
        return values;
    }

    /**
     * Time the last run spent in the card's calls: copies to and from the device and the execution. The rest of a
     * run (Java arrays into and out of the pinned host buffers) is the host's.
     */
    public long lastCardNanos() {
        return lastCardNanos;
    }

    float[][] execute(Object... values) {
        long card = 0;
        if (values.length != inputs.size()) {
            throw new IllegalArgumentException(name + " takes " + inputs.size() + " inputs " + inputs + ", not " + values.length);
        }
        for (int i = 0; i < values.length; i++) {
            Tensor t = inputs.get(i);
            if (values[i] instanceof float[] f && f.length == t.elements() && t.dataType() == AxclEngineApi.DATA_TYPE_FP32) {
                t.host().write(0, f, 0, f.length);
            } else if (values[i] instanceof int[] n && n.length == t.elements() && t.dataType() == AxclEngineApi.DATA_TYPE_INT32) {
                t.host().write(0, n, 0, n.length);
            } else {
                throw new IllegalArgumentException(name + ": input " + t + " of type " + t.dataType() + " does not take " + values[i]);
            }
            long t0 = System.nanoTime();
            AxclException.check("axclrtMemcpy(" + t.name() + ", host to device)", rt.axclrtMemcpy(t.device(), t.host(), t.bytes(),
                    AxclEngineApi.HOST_TO_DEVICE));
            card += System.nanoTime() - t0;
        }
        long t0 = System.nanoTime();
        AxclException.check("axclrtEngineExecute(" + name + ")", rt.axclrtEngineExecute(modelId, contextId, 0, io));
        card += System.nanoTime() - t0;
        float[][] out = new float[outputs.size()][];
        for (int i = 0; i < outputs.size(); i++) {
            Tensor t = outputs.get(i);
            long c0 = System.nanoTime();
            AxclException.check("axclrtMemcpy(" + t.name() + ", device to host)", rt.axclrtMemcpy(t.host(), t.device(), t.bytes(),
                    AxclEngineApi.DEVICE_TO_HOST));
            card += System.nanoTime() - c0;
            if (t.dataType() != AxclEngineApi.DATA_TYPE_FP32) {
                throw new IllegalStateException(name + ": output " + t + " is of type " + t.dataType() + ", not fp32");
            }
            out[i] = t.host().getFloatArray(0, (int) t.elements());
        }
        lastCardNanos = card;
        return out;
    }

    /** Frees the buffers and unloads the model; on its device's thread, at close. */
    void release() {
        for (Tensor t : inputs) {
            rt.axclrtFree(t.device());
            rt.axclrtFreeHost(t.host());
        }
        for (Tensor t : outputs) {
            rt.axclrtFree(t.device());
            rt.axclrtFreeHost(t.host());
        }
        rt.axclrtEngineDestroyIO(io);
        rt.axclrtEngineDestroyIOInfo(ioInfo);
        rt.axclrtEngineUnload(modelId);
    }
}
