package dev.axfleet.worker.image;

import com.sun.jna.Library;
import com.sun.jna.Pointer;
import com.sun.jna.Structure;
import com.sun.jna.ptr.IntByReference;
import com.sun.jna.ptr.LongByReference;
import com.sun.jna.ptr.PointerByReference;
import dev.axfleet.axcl.DeviceList;
import dev.axfleet.axcl.DeviceProperties;

/**
 * The functions of {@code libaxcl_rt.so} the image pipeline calls, with the manufacturer's signatures
 * (AXERA-TECH/axcl-runtime include/external/axcl.h, axcl_rt_device.h, axcl_rt_context.h, axcl_rt_memory.h,
 * axcl_rt_engine.h; ../shared/axera.md §2.2). Handles ({@code axclrtContext}, {@code axclrtEngineIOInfo},
 * {@code axclrtEngineIO}) are {@code void*}; model and context ids are {@code uint64_t}; {@code size_t} is 64-bit
 * on the Pi 5 (arm64).
 */
public interface AxclEngineApi extends Library {
    int AXCL_VNPU_DISABLE = 0;
    int AXCL_MEM_MALLOC_NORMAL_ONLY = 2;
    int HOST_TO_DEVICE = 1;
    int DEVICE_TO_HOST = 2;
    /** {@code axclrtEngineDataType} (axcl-runtime@6696a5f out/axcl_linux_arm64/include/axcl_rt_engine_type.h:55-73). */
    int DATA_TYPE_INT8 = 3;
    int DATA_TYPE_UINT8 = 4;
    int DATA_TYPE_INT16 = 5;
    int DATA_TYPE_UINT16 = 6;
    int DATA_TYPE_INT32 = 7;
    int DATA_TYPE_UINT32 = 8;
    int DATA_TYPE_FP16 = 13;
    int DATA_TYPE_BF16 = 14;
    int DATA_TYPE_FP32 = 15;

    // axclInit and axclFinalize are the process's: dev.axfleet.axcl.AxclProcess.

    String axclrtGetFullVersion();

    int axclrtGetDeviceList(DeviceList list);

    int axclrtGetDeviceProperties(int deviceId, DeviceProperties properties);

    int axclrtSetDevice(int deviceId);

    int axclrtResetDevice(int deviceId);

    int axclrtCreateContext(PointerByReference context, int deviceId);

    int axclrtDestroyContext(Pointer context);

    int axclrtSetCurrentContext(Pointer context);

    int axclrtEngineInit(int npuKind);

    int axclrtEngineFinalize();

    int axclrtEngineGetUsage(String modelPath, LongByReference sysSize, LongByReference cmmSize);

    int axclrtEngineLoadFromFile(String modelPath, LongByReference modelId);

    int axclrtEngineUnload(long modelId);

    int axclrtEngineCreateContext(long modelId, LongByReference contextId);

    int axclrtEngineGetIOInfo(long modelId, PointerByReference ioInfo);

    int axclrtEngineDestroyIOInfo(Pointer ioInfo);

    int axclrtEngineGetNumInputs(Pointer ioInfo);

    int axclrtEngineGetNumOutputs(Pointer ioInfo);

    long axclrtEngineGetInputSizeByIndex(Pointer ioInfo, int group, int index);

    long axclrtEngineGetOutputSizeByIndex(Pointer ioInfo, int group, int index);

    String axclrtEngineGetInputNameByIndex(Pointer ioInfo, int index);

    String axclrtEngineGetOutputNameByIndex(Pointer ioInfo, int index);

    int axclrtEngineGetInputDims(Pointer ioInfo, int group, int index, IODims dims);

    int axclrtEngineGetOutputDims(Pointer ioInfo, int group, int index, IODims dims);

    int axclrtEngineGetInputDataType(Pointer ioInfo, int index, IntByReference type);

    int axclrtEngineGetOutputDataType(Pointer ioInfo, int index, IntByReference type);

    int axclrtEngineCreateIO(Pointer ioInfo, PointerByReference io);

    int axclrtEngineDestroyIO(Pointer io);

    int axclrtEngineSetInputBufferByIndex(Pointer io, int index, Pointer buffer, long size);

    int axclrtEngineSetOutputBufferByIndex(Pointer io, int index, Pointer buffer, long size);

    int axclrtMalloc(PointerByReference devPtr, long size, int policy);

    int axclrtFree(Pointer devPtr);

    int axclrtMallocHost(PointerByReference hostPtr, long size);

    int axclrtFreeHost(Pointer hostPtr);

    int axclrtMemcpy(Pointer dst, Pointer src, long count, int kind);

    int axclrtEngineExecute(long modelId, long contextId, int group, Pointer io);

    /** {@code axclrtEngineIODims { int32_t dimCount; int32_t dims[32]; }}. */
    @Structure.FieldOrder({"dimCount", "dims"})
    final class IODims extends Structure {
        public int dimCount;
        public int[] dims = new int[32];
    }
}
