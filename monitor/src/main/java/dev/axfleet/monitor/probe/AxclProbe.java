package dev.axfleet.monitor.probe;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.PointerByReference;
import dev.axfleet.axcl.AxclError;
import dev.axfleet.axcl.AxclProcess;
import dev.axfleet.axcl.DeviceList;
import dev.axfleet.axcl.DeviceProperties;
import dev.axfleet.broker.CardReadings;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Probes cards through {@code libaxcl_rt.so} with JNA, the way AXERA-TECH/axcl-runtime@6696a5f
 * {@code sample/runtime/main.cpp} reads a card: {@code axclInit} (once per process: {@link AxclProcess}),
 * {@code axclrtGetDeviceList} (card index to device id, :52-67), {@code axclrtSetDevice} ("active each device to setup
 * connection", :70-72), {@code axclrtCreateContext} on the calling thread (:99), then {@code axclrtGetDeviceProperties}
 * (:115); {@code axclrtDestroyContext} and {@code axclrtResetDevice} when done (:142, :153). Faster than axcl-smi, but the
 * process stays a card user (host CMA, and a driver reload is impossible while it runs: ../shared/axera.md §8.4), so it
 * is not the default.
 *
 * <p>All calls run on one thread, which holds the contexts (AXCL contexts are per thread). A call that does not return
 * within the time limit leaves that thread stuck; later probes say "hung" at once instead of piling up threads.
 * {@code axclFinalize} is the process's, at exit ({@link AxclProcess}).
 */
public final class AxclProbe implements DeviceProbe {
    private final String library;
    private final Duration timeout;
    private final ExecutorService thread = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "libaxcl");
        t.setDaemon(true);
        return t;
    });
    private AxclRt rt;
    /** Device id to the context this probe created for it on its thread, for each device it has activated. */
    private final Map<Integer, Pointer> active = new HashMap<>();
    private Future<DeviceHealth> stuck;

    /** @param library the library name or path JNA loads ({@code axcl_rt}, found in /usr/lib/axcl) */
    public AxclProbe(String library, Duration timeout) {
        this.library = library;
        this.timeout = timeout;
    }

    @Override
    public String name() {
        return "libaxcl_rt";
    }

    @Override
    public boolean holdsCard() {
        return true;
    }

    @Override
    public synchronized DeviceHealth probe(int card) {
        if (stuck != null && !stuck.isDone()) {
            return DeviceHealth.failed(DeviceHealth.Status.HUNG, "a libaxcl_rt call has not returned for over " + timeout.toMillis() + " ms",
                    List.of());
        }
        stuck = null;
        Future<DeviceHealth> f = thread.submit(() -> call(card));
        try {
            return f.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            stuck = f;
            AxclProcess.stuck(library);
            return DeviceHealth.failed(DeviceHealth.Status.HUNG, "libaxcl_rt did not answer within " + timeout.toMillis() + " ms", List.of());
        } catch (Exception e) {
            return DeviceHealth.failed(DeviceHealth.Status.NOT_FOUND, "libaxcl_rt: " + e.getCause(), List.of());
        }
    }

    private DeviceHealth call(int card) {
        if (rt == null) {
            try {
                rt = Native.load(library, AxclRt.class);
            } catch (UnsatisfiedLinkError e) {
                return DeviceHealth.failed(DeviceHealth.Status.NOT_FOUND, "cannot load " + library + ": " + e.getMessage(), List.of());
            }
        }
        int ret = AxclProcess.init(library);
        if (ret != 0) {
            return DeviceHealth.failed(DeviceHealth.Status.NOT_FOUND, "axclInit: " + AxclError.describe(ret), List.of());
        }
        DeviceList list = new DeviceList();
        ret = rt.axclrtGetDeviceList(list);
        if (ret != 0) {
            return DeviceHealth.failed(DeviceHealth.Status.NOT_FOUND, "axclrtGetDeviceList: " + AxclError.describe(ret), List.of());
        }
        if (card >= list.num) {
            releaseAll();
            return DeviceHealth.failed(DeviceHealth.Status.NOT_FOUND, "libaxcl_rt lists " + list.num + " card(s), no card " + card, List.of());
        }
        int deviceId = list.devices[card];
        Pointer context = active.get(deviceId);
        if (context == null) {
            ret = rt.axclrtSetDevice(deviceId);
            if (ret != 0) {
                return DeviceHealth.failed(DeviceHealth.Status.NOT_FOUND, "axclrtSetDevice(" + deviceId + "): " + AxclError.describe(ret),
                        List.of());
            }
            PointerByReference ctx = new PointerByReference();
            ret = rt.axclrtCreateContext(ctx, deviceId);
            if (ret != 0) {
                rt.axclrtResetDevice(deviceId);
                return DeviceHealth.failed(DeviceHealth.Status.NOT_FOUND, "axclrtCreateContext(" + deviceId + "): " + AxclError.describe(ret),
                        List.of());
            }
            context = ctx.getValue();
            active.put(deviceId, context);
        }
        ret = rt.axclrtSetCurrentContext(context);
        DeviceProperties p = new DeviceProperties();
        if (ret == 0) {
            ret = rt.axclrtGetDeviceProperties(deviceId, p);
        }
        if (ret != 0) {
            // Activated afresh on the next probe: after a card reset the old context is gone.
            release(deviceId);
            return DeviceHealth.failed(DeviceHealth.Status.NOT_FOUND, "axclrtGetDeviceProperties(" + deviceId + "): "
                    + AxclError.describe(ret), List.of());
        }
        return fromProperties(deviceId, p);
    }

    private void release(int deviceId) {
        Pointer context = active.remove(deviceId);
        if (context != null) {
            rt.axclrtDestroyContext(context);
            rt.axclrtResetDevice(deviceId);
        }
    }

    private void releaseAll() {
        for (Integer id : List.copyOf(active.keySet())) {
            release(id);
        }
    }

    /**
     * The struct's units (axcl_rt_type.h at axcl-runtime@6696a5f): memory in KB (:27-30, "unit: KB"); loads "average cpu
     * loading * 100%" (:31-32), which sample/runtime/main.cpp:125-126 prints as {@code cpuLoading / 100.0} percent: the
     * field is hundredths of a percent, rounded here to whole percent as axcl-smi's table shows them. Temperature is "Tj"
     * with no unit (:26; the sample prints it bare, :120); axcl-smi's {@code info --temp} is °C × 1000
     * (doc_guide_axcl_smi.md), so values above 1000 are taken as m°C. docs/hardware.md U12 is the check on the card.
     */
    static DeviceHealth fromProperties(int deviceId, DeviceProperties p) {
        List<String> warnings = new ArrayList<>();
        Double temp = Math.abs(p.temperature) > 1000 ? p.temperature / 1000.0 : (double) p.temperature;
        if (temp < -40 || temp > 150) {
            warnings.add("libaxcl_rt: temperature " + p.temperature + " out of range; unit unknown");
            temp = null;
        }
        long memTotal = Integer.toUnsignedLong(p.totalMemSize);
        long memFree = Integer.toUnsignedLong(p.freeMemSize);
        long cmmTotal = Integer.toUnsignedLong(p.totalCmmSize);
        long cmmFree = Integer.toUnsignedLong(p.freeCmmSize);
        Integer cpu = load(p.cpuLoading, "cpuLoading", warnings);
        Integer npu = load(p.npuLoading, "npuLoading", warnings);
        return new DeviceHealth(DeviceHealth.Status.ANSWERING, new CardReadings(deviceId, temp, (memTotal - memFree) / 1024, memTotal / 1024,
                (cmmTotal - cmmFree) / 1024, cmmTotal / 1024, cpu, npu, List.of()), null, warnings);
    }

    /** Hundredths of a percent to whole percent; above 100 % it is not a load. */
    static Integer load(int raw, String field, List<String> warnings) {
        long v = Integer.toUnsignedLong(raw);
        if (v > 10_000) {
            warnings.add("libaxcl_rt: " + field + " " + v + " is over 10000 (100 %); not a load in hundredths of a percent");
            return null;
        }
        return (int) Math.round(v / 100.0);
    }

    @Override
    public synchronized void close() {
        if (rt != null && (stuck == null || stuck.isDone())) {
            try {
                thread.submit(this::releaseAll).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            } catch (Exception e) {
                // Releasing is a courtesy at exit; the process is ending either way.
            }
        }
        thread.shutdownNow();
    }

    /** The functions of libaxcl_rt.so the probe uses (axcl_rt_device.h, axcl_rt_context.h). */
    public interface AxclRt extends Library {
        int axclrtGetDeviceList(DeviceList list);

        int axclrtSetDevice(int deviceId);

        int axclrtResetDevice(int deviceId);

        int axclrtCreateContext(PointerByReference context, int deviceId);

        int axclrtDestroyContext(Pointer context);

        int axclrtSetCurrentContext(Pointer context);

        int axclrtGetDeviceProperties(int deviceId, DeviceProperties properties);
    }
}
