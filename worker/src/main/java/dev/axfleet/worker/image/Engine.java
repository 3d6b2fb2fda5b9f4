package dev.axfleet.worker.image;

import com.sun.jna.Pointer;
import com.sun.jna.ptr.IntByReference;
import com.sun.jna.ptr.LongByReference;
import com.sun.jna.ptr.PointerByReference;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One loaded model (an {@code .axmodel}) with its IO described by the runtime and buffers allocated once: device
 * buffers set on its {@code axclrtEngineIO}, pinned host buffers ({@code axclrtMallocHost}) to copy through.
 * Inputs are given in the model's input order as {@code float[]} (FP32, FP16, BF16 tensors) or {@code int[]} (integer
 * tensors); outputs of every supported type come back as {@code float[]} in its output order. Used only on its
 * {@link AxclDevice}'s thread.
 *
 * <p>Element counts come from the dims and each type's size, as pyaxengine does (axengine/_axclrt.py@3554448:383,
 * {@code dtype.itemsize * np.prod(shape)}); its {@code _transform_dtype} (:29-47) maps the integer types, FP32 and BF16.
 * ax-llm docs/sd15_axllm_implementation.md §7.2 says most key SD tensors are FP32, not all; which ones are not is
 * unverified on the card, so each tensor's type is logged at load.
 */
public final class Engine {
    private static final Logger log = LoggerFactory.getLogger(Engine.class);

    /** One input or output as the runtime describes it. */
    public record Tensor(String name, int dataType, int[] dims, long bytes, Pointer device, Pointer host) {
        /** The number of elements: the product of the dims. */
        public long elements() {
            long n = 1;
            for (int d : dims) {
                n *= d;
            }
            return n;
        }

        /** The bytes the elements take ({@code bytes} may be more, never less). */
        long dataBytes() {
            return elements() * elementSize(dataType);
        }

        @Override
        public String toString() {
            return name + Arrays.toString(dims);
        }
    }

    /** Bytes per element of an {@code axclrtEngineDataType}; 0 for types this binding does not read or write. */
    static int elementSize(int type) {
        return switch (type) {
            case AxclEngineApi.DATA_TYPE_INT8, AxclEngineApi.DATA_TYPE_UINT8 -> 1;
            case AxclEngineApi.DATA_TYPE_INT16, AxclEngineApi.DATA_TYPE_UINT16, AxclEngineApi.DATA_TYPE_FP16, AxclEngineApi.DATA_TYPE_BF16 -> 2;
            case AxclEngineApi.DATA_TYPE_INT32, AxclEngineApi.DATA_TYPE_UINT32, AxclEngineApi.DATA_TYPE_FP32 -> 4;
            default -> 0;
        };
    }

    /** The type's name in axcl_rt_engine_type.h, lower case and short ({@code fp16}), for logs and errors. */
    static String typeName(int type) {
        return switch (type) {
            case AxclEngineApi.DATA_TYPE_INT8 -> "int8";
            case AxclEngineApi.DATA_TYPE_UINT8 -> "uint8";
            case AxclEngineApi.DATA_TYPE_INT16 -> "int16";
            case AxclEngineApi.DATA_TYPE_UINT16 -> "uint16";
            case AxclEngineApi.DATA_TYPE_INT32 -> "int32";
            case AxclEngineApi.DATA_TYPE_UINT32 -> "uint32";
            case AxclEngineApi.DATA_TYPE_FP16 -> "fp16";
            case AxclEngineApi.DATA_TYPE_BF16 -> "bf16";
            case AxclEngineApi.DATA_TYPE_FP32 -> "fp32";
            default -> "type " + type;
        };
    }

    private static boolean floating(int type) {
        return type == AxclEngineApi.DATA_TYPE_FP32 || type == AxclEngineApi.DATA_TYPE_FP16 || type == AxclEngineApi.DATA_TYPE_BF16;
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
        for (Tensor t : in) {
            log.info("engine {}: input {} {} ({} bytes)", model.getFileName(), t, typeName(t.dataType()), t.bytes());
        }
        for (Tensor t : out) {
            log.info("engine {}: output {} {} ({} bytes)", model.getFileName(), t, typeName(t.dataType()), t.bytes());
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
        int[] shape = Arrays.copyOf(dims.dims, dims.dimCount);
        Tensor described = new Tensor(name, type.getValue(), shape, bytes, null, null);
        if (elementSize(type.getValue()) == 0) {
            throw new AxclException((input ? "input " : "output ") + described + " has data type " + type.getValue()
                    + ", which this binding does not convert (it reads int8, uint8, int16, uint16, int32, uint32, fp16, bf16 and fp32)");
        }
        if (described.dataBytes() > bytes) {
            throw new AxclException((input ? "input " : "output ") + described + " " + typeName(type.getValue()) + " needs "
                    + described.dataBytes() + " bytes; the runtime gives it " + bytes);
        }
        PointerByReference device = new PointerByReference();
        AxclException.check("axclrtMalloc(" + bytes + ")", rt.axclrtMalloc(device, bytes, AxclEngineApi.AXCL_MEM_MALLOC_NORMAL_ONLY));
        PointerByReference host = new PointerByReference();
        AxclException.check("axclrtMallocHost(" + bytes + ")", rt.axclrtMallocHost(host, bytes));
        AxclException.check("axclrtEngineSet" + (input ? "Input" : "Output") + "BufferByIndex(" + name + ")",
                input ? rt.axclrtEngineSetInputBufferByIndex(io, index, device.getValue(), bytes)
                        : rt.axclrtEngineSetOutputBufferByIndex(io, index, device.getValue(), bytes));
        return new Tensor(name, type.getValue(), shape, bytes, device.getValue(), host.getValue());
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
            write(t, values[i]);
            long t0 = System.nanoTime();
            AxclException.check("axclrtMemcpy(" + t.name() + ", host to device)", rt.axclrtMemcpy(t.device(), t.host(), t.dataBytes(),
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
            AxclException.check("axclrtMemcpy(" + t.name() + ", device to host)", rt.axclrtMemcpy(t.host(), t.device(), t.dataBytes(),
                    AxclEngineApi.DEVICE_TO_HOST));
            card += System.nanoTime() - c0;
            out[i] = read(t);
        }
        lastCardNanos = card;
        return out;
    }

    /** Writes one input into its host buffer in the tensor's type: floats for float tensors, ints for integer ones. */
    private void write(Tensor t, Object value) {
        int n = (int) t.elements();
        Pointer h = t.host();
        if (value instanceof float[] f && f.length == n && floating(t.dataType())) {
            switch (t.dataType()) {
                case AxclEngineApi.DATA_TYPE_FP32 -> h.write(0, f, 0, n);
                case AxclEngineApi.DATA_TYPE_FP16 -> {
                    short[] s = new short[n];
                    for (int k = 0; k < n; k++) {
                        s[k] = toFp16(f[k]);
                    }
                    h.write(0, s, 0, n);
                }
                default -> {
                    short[] s = new short[n];
                    for (int k = 0; k < n; k++) {
                        s[k] = toBf16(f[k]);
                    }
                    h.write(0, s, 0, n);
                }
            }
            return;
        }
        if (value instanceof int[] v && v.length == n && !floating(t.dataType())) {
            switch (elementSize(t.dataType())) {
                case 4 -> h.write(0, v, 0, n);
                case 2 -> {
                    short[] s = new short[n];
                    for (int k = 0; k < n; k++) {
                        s[k] = (short) narrow(t, v[k], t.dataType() == AxclEngineApi.DATA_TYPE_INT16 ? Short.MIN_VALUE : 0,
                                t.dataType() == AxclEngineApi.DATA_TYPE_INT16 ? Short.MAX_VALUE : 0xFFFF);
                    }
                    h.write(0, s, 0, n);
                }
                default -> {
                    byte[] b = new byte[n];
                    for (int k = 0; k < n; k++) {
                        b[k] = (byte) narrow(t, v[k], t.dataType() == AxclEngineApi.DATA_TYPE_INT8 ? Byte.MIN_VALUE : 0,
                                t.dataType() == AxclEngineApi.DATA_TYPE_INT8 ? Byte.MAX_VALUE : 0xFF);
                    }
                    h.write(0, b, 0, n);
                }
            }
            return;
        }
        throw new IllegalArgumentException(name + ": input " + t + " of type " + typeName(t.dataType()) + " (" + n
                + " elements) does not take " + describe(value));
    }

    private int narrow(Tensor t, int v, int min, int max) {
        if (v < min || v > max) {
            throw new IllegalArgumentException(name + ": input " + t + " is " + typeName(t.dataType()) + "; " + v + " does not fit");
        }
        return v;
    }

    /** One output from its host buffer as floats, whatever its type (integers as their values). */
    private static float[] read(Tensor t) {
        int n = (int) t.elements();
        Pointer h = t.host();
        float[] out = new float[n];
        switch (t.dataType()) {
            case AxclEngineApi.DATA_TYPE_FP32 -> h.read(0, out, 0, n);
            case AxclEngineApi.DATA_TYPE_FP16 -> {
                short[] s = h.getShortArray(0, n);
                for (int k = 0; k < n; k++) {
                    out[k] = fromFp16(s[k]);
                }
            }
            case AxclEngineApi.DATA_TYPE_BF16 -> {
                short[] s = h.getShortArray(0, n);
                for (int k = 0; k < n; k++) {
                    out[k] = Float.intBitsToFloat((s[k] & 0xFFFF) << 16);
                }
            }
            case AxclEngineApi.DATA_TYPE_INT32 -> {
                int[] v = h.getIntArray(0, n);
                for (int k = 0; k < n; k++) {
                    out[k] = v[k];
                }
            }
            case AxclEngineApi.DATA_TYPE_UINT32 -> {
                int[] v = h.getIntArray(0, n);
                for (int k = 0; k < n; k++) {
                    out[k] = Integer.toUnsignedLong(v[k]);
                }
            }
            case AxclEngineApi.DATA_TYPE_INT16, AxclEngineApi.DATA_TYPE_UINT16 -> {
                short[] s = h.getShortArray(0, n);
                boolean signed = t.dataType() == AxclEngineApi.DATA_TYPE_INT16;
                for (int k = 0; k < n; k++) {
                    out[k] = signed ? s[k] : s[k] & 0xFFFF;
                }
            }
            default -> {
                byte[] b = h.getByteArray(0, n);
                boolean signed = t.dataType() == AxclEngineApi.DATA_TYPE_INT8;
                for (int k = 0; k < n; k++) {
                    out[k] = signed ? b[k] : b[k] & 0xFF;
                }
            }
        }
        return out;
    }

    /** IEEE 754 binary16 to float (Java 17 has no Float.float16ToFloat). */
    static float fromFp16(short half) {
        int h = half & 0xFFFF;
        int sign = (h & 0x8000) << 16;
        int exp = (h >>> 10) & 0x1F;
        int mant = h & 0x3FF;
        if (exp == 0) {
            float f = mant / 16777216f; // subnormal: mant × 2^-24
            return sign != 0 ? -f : f;
        }
        int bits = exp == 31 ? sign | 0x7F800000 | (mant << 13) : sign | ((exp - 15 + 127) << 23) | (mant << 13);
        return Float.intBitsToFloat(bits);
    }

    /** float to IEEE 754 binary16, rounding to nearest even (numpy's float16). */
    static short toFp16(float f) {
        int x = Float.floatToRawIntBits(f);
        int sign = (x >>> 16) & 0x8000;
        int rawExp = (x >>> 23) & 0xFF;
        int mant = x & 0x7FFFFF;
        if (rawExp == 0xFF) {
            return (short) (sign | 0x7C00 | (mant != 0 ? 0x200 : 0));
        }
        int exp = rawExp - 127 + 15;
        if (exp >= 31) {
            return (short) (sign | 0x7C00);
        }
        if (exp <= 0) {
            if (exp < -10) {
                return (short) sign;
            }
            mant |= 0x800000;
            int shift = 14 - exp;
            int half = mant >>> shift;
            int rest = mant & ((1 << shift) - 1);
            int mid = 1 << (shift - 1);
            if (rest > mid || (rest == mid && (half & 1) != 0)) {
                half++;
            }
            return (short) (sign | half);
        }
        int half = sign | (exp << 10) | (mant >>> 13);
        int rest = mant & 0x1FFF;
        if (rest > 0x1000 || (rest == 0x1000 && (half & 1) != 0)) {
            half++;
        }
        return (short) half;
    }

    /** float to bfloat16, rounding to nearest even (what ml_dtypes.bfloat16, pyaxengine's type, does). */
    static short toBf16(float f) {
        int x = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) {
            return (short) ((x >>> 16) | 0x40);
        }
        return (short) ((x + 0x7FFF + ((x >>> 16) & 1)) >>> 16);
    }

    private static String describe(Object value) {
        if (value instanceof float[] f) {
            return "float[" + f.length + "]";
        }
        if (value instanceof int[] v) {
            return "int[" + v.length + "]";
        }
        return String.valueOf(value);
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
