package dev.axfleet.axcl;

/**
 * AXCL error codes in words. Layout {@code 0x80000000 | (module & 0x7F) << 24 | 0x30 << 16 | sub << 8 | err}
 * (AXERA-TECH/axcl-runtime:include/external/axcl_base.h, axcl_rt_device.h; ../shared/axera.md §2.2).
 */
public final class AxclError {
    private static final String[] SUBS = {"", "device", "context", "stream", "task", "memory", "config", "engine", "syslog",
            "sysctrl", "latency", "p2p", "usrwork"};
    private static final String[] GENERIC = {"success", "failure", "null pointer", "illegal parameter", "unsupported", "timeout",
            "busy", "no memory", "encode error", "decode error", "unexpected response", "open failed", "execute failed"};

    private AxclError() {
    }

    public static String describe(int code) {
        String hex = String.format("0x%08x", code);
        if (code == 0) {
            return hex + " (success)";
        }
        if (code == 0x8030010b) {
            return hex + " (runtime/device/open: card not found; is the driver loaded? /dev/axcl_host)";
        }
        int module = (code >>> 24) & 0x7F;
        int sub = (code >>> 8) & 0xFF;
        int err = code & 0xFF;
        String where = (module == 0 ? "runtime" : module == 1 ? "native" : module == 2 ? "lite" : "module " + module)
                + "/" + (sub < SUBS.length && sub > 0 ? SUBS[sub] : "sub " + sub);
        String what = err < GENERIC.length ? GENERIC[err] : sub == 1 ? device(err) : "error 0x" + Integer.toHexString(err);
        return hex + " (" + where + ": " + what + ")";
    }

    private static String device(int err) {
        return switch (err) {
            case 0x80 -> "query device failed";
            case 0x81 -> "no device connected";
            case 0x82 -> "probe failed";
            case 0x83 -> "device not active";
            case 0x84 -> "invalid device id";
            case 0x85 -> "no active device";
            case 0x86 -> "port allocation failed";
            case 0x87 -> "reboot failed";
            case 0x88 -> "port destroy failed";
            default -> "error 0x" + Integer.toHexString(err);
        };
    }
}
