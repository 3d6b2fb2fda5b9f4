package dev.axfleet.axcl;

import com.sun.jna.Structure;

/** {@code axclrtDeviceList { uint32_t num; int32_t devices[AXCL_MAX_DEVICE_COUNT = 256]; }}. */
@Structure.FieldOrder({"num", "devices"})
public final class DeviceList extends Structure {
    public int num;
    public int[] devices = new int[256];
}
