package dev.axfleet.monitor.probe;

import com.sun.jna.Library;
import com.sun.jna.Native;
import dev.axfleet.axcl.AxclError;
import dev.axfleet.axcl.DeviceList;
import dev.axfleet.axcl.DeviceProperties;
import dev.axfleet.broker.CardReadings;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Probes cards through {@code libaxcl_rt.so} with JNA: {@code axclInit}, {@code axclrtGetDeviceList},
 * {@code axclrtGetDeviceProperties} (AXERA-TECH/axcl-runtime:include/external/axcl.h, axcl_rt_device.h;
 * ../shared/axera.md §2.2). Faster than axcl-smi, but the process stays a card user (host CMA, and a driver
 * reload is impossible while it runs: §8.4), so it is not the default.
 *
 * <p>All calls run on one thread (AXCL contexts are per thread). A call that does not return within the
 * time limit leaves that thread stuck; later probes say "hung" at once instead of piling up threads.
 * {@code axclFinalize} is called on close only: it can abort the process (§8.3).
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
    private boolean initialised;
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
        if (!initialised) {
            int ret = rt.axclInit(null);
            if (ret != 0) {
                return DeviceHealth.failed(DeviceHealth.Status.NOT_FOUND, "axclInit: " + AxclError.describe(ret), List.of());
            }
            initialised = true;
        }
        DeviceList list = new DeviceList();
        int ret = rt.axclrtGetDeviceList(list);
        if (ret != 0) {
            return DeviceHealth.failed(DeviceHealth.Status.NOT_FOUND, "axclrtGetDeviceList: " + AxclError.describe(ret), List.of());
        }
        if (card >= list.num) {
            return DeviceHealth.failed(DeviceHealth.Status.NOT_FOUND, "libaxcl_rt lists " + list.num + " card(s), no card " + card, List.of());
        }
        int deviceId = list.devices[card];
        DeviceProperties p = new DeviceProperties();
        ret = rt.axclrtGetDeviceProperties(deviceId, p);
        if (ret != 0) {
            return DeviceHealth.failed(DeviceHealth.Status.NOT_FOUND, "axclrtGetDeviceProperties(" + deviceId + "): "
                    + AxclError.describe(ret), List.of());
        }
        return fromProperties(deviceId, p);
    }

    /**
     * The struct's units are not all documented: memory is KB (header comment); temperature has no unit in the
     * header, but axcl-smi reports m°C, so values above 1000 are taken as m°C; loads are "average × 100%"
     * (percent, or hundredths of a percent above 100). docs/hardware.md lists these as unverified.
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
        return new DeviceHealth(DeviceHealth.Status.ANSWERING, new CardReadings(deviceId, temp, (memTotal - memFree) / 1024, memTotal / 1024,
                (cmmTotal - cmmFree) / 1024, cmmTotal / 1024, load(p.cpuLoading), load(p.npuLoading), List.of()), null, warnings);
    }

    private static Integer load(int raw) {
        long v = Integer.toUnsignedLong(raw);
        if (v <= 100) {
            return (int) v;
        }
        return v <= 10_000 ? (int) (v / 100) : null;
    }

    @Override
    public synchronized void close() {
        if (initialised && (stuck == null || stuck.isDone())) {
            try {
                thread.submit(() -> rt.axclFinalize()).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            } catch (Exception e) {
                // Finalising is a courtesy at exit; the process is ending either way.
            }
        }
        thread.shutdownNow();
    }

    /** The four functions of libaxcl_rt.so the probe uses. */
    public interface AxclRt extends Library {
        int axclInit(String config);

        int axclFinalize();

        int axclrtGetDeviceList(DeviceList list);

        int axclrtGetDeviceProperties(int deviceId, DeviceProperties properties);
    }
}
