package dev.axfleet.axcl;

import com.sun.jna.Structure;

/** {@code axclrtDeviceProperties}: 240 bytes with natural alignment, temperature at offset 84. */
@Structure.FieldOrder({"swVersion", "uid", "pciDomain", "pciBusID", "pciDeviceID", "temperature", "totalMemSize", "freeMemSize",
        "totalCmmSize", "freeCmmSize", "cpuLoading", "npuLoading", "reserved"})
public final class DeviceProperties extends Structure {
    public byte[] swVersion = new byte[64];
    public long uid;
    public int pciDomain;
    public int pciBusID;
    public int pciDeviceID;
    public int temperature;
    public int totalMemSize;
    public int freeMemSize;
    public int totalCmmSize;
    public int freeCmmSize;
    public int cpuLoading;
    public int npuLoading;
    public int[] reserved = new int[32];
}
