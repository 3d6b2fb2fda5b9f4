package dev.axfleet.worker.image;

import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.LongByReference;
import com.sun.jna.ptr.PointerByReference;
import dev.axfleet.axcl.AxclProcess;
import dev.axfleet.axcl.DeviceList;
import dev.axfleet.axcl.DeviceProperties;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One card opened by this process through {@code libaxcl_rt.so}, in the canonical order (../shared/axera.md §2.3):
 * {@code axclInit} (once per process, shared with anything else in this JVM that uses the card: {@link AxclProcess}),
 * the device list (card index to device id), {@code axclrtSetDevice}, a context of our own, {@code axclrtEngineInit}.
 * Every AXCL call runs on one platform thread that holds that context (AXCL contexts are per thread). A call that does
 * not return within the time limit leaves the card marked hung: later calls fail at once instead of queueing behind it.
 *
 * <p>Closing releases what this device opened (engines, the engine runtime, the context, the device) and never calls
 * {@code axclFinalize}: a restart opens the card again in the same process, which must not call {@code axclInit} twice
 * (axcl-docs doc_guide_axcl_api.md, axclInit: "一个进程内只调用一次本接口").
 */
public final class AxclDevice implements AutoCloseable {
    private final AxclEngineApi rt;
    private final String library;
    private final Duration callTimeout;
    private final ExecutorService thread = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "axcl");
        t.setDaemon(true);
        return t;
    });
    private final List<Engine> engines = new ArrayList<>();
    private int deviceId;
    private boolean deviceSet;
    private boolean engineReady;
    private String version = "";
    private Pointer context;
    private volatile Future<?> stuck;

    private AxclDevice(AxclEngineApi rt, String library, Duration callTimeout) {
        this.rt = rt;
        this.library = library;
        this.callTimeout = callTimeout;
    }

    /**
     * Opens card {@code card} (its index in the device list, not its device id).
     *
     * @param library the library JNA loads: {@code axcl_rt} (found through /etc/ld.so.conf.d/axcl.conf) or a path
     */
    public static AxclDevice open(String library, int card, Duration callTimeout) {
        AxclEngineApi rt;
        try {
            rt = Native.load(library, AxclEngineApi.class);
        } catch (UnsatisfiedLinkError e) {
            throw new AxclException("the card's runtime library is not installed: cannot load " + library + " (" + e.getMessage()
                    + "); it comes with the driver package axclhost (docs/RASPBERRY_PI_SETUP.md, 2), or set runtime.axcl_library");
        }
        AxclDevice d = new AxclDevice(rt, library, callTimeout);
        try {
            d.call("open the card", () -> {
                AxclException.check("axclInit", AxclProcess.init(library));
                d.version = String.valueOf(rt.axclrtGetFullVersion());
                DeviceList list = new DeviceList();
                AxclException.check("axclrtGetDeviceList", rt.axclrtGetDeviceList(list));
                if (card >= list.num) {
                    throw new AxclException("libaxcl_rt lists " + list.num + " card(s); there is no card " + card);
                }
                d.deviceId = list.devices[card];
                AxclException.check("axclrtSetDevice(" + d.deviceId + ")", rt.axclrtSetDevice(d.deviceId));
                d.deviceSet = true;
                PointerByReference ctx = new PointerByReference();
                AxclException.check("axclrtCreateContext", rt.axclrtCreateContext(ctx, d.deviceId));
                d.context = ctx.getValue();
                AxclException.check("axclrtSetCurrentContext", rt.axclrtSetCurrentContext(d.context));
                AxclException.check("axclrtEngineInit", rt.axclrtEngineInit(AxclEngineApi.AXCL_VNPU_DISABLE));
                d.engineReady = true;
                return null;
            });
        } catch (RuntimeException e) {
            d.close();
            throw e;
        }
        return d;
    }

    /** CMM the model at {@code path} needs once loaded, in bytes ({@code axclrtEngineGetUsage}). */
    public long cmmBytes(Path model) {
        return call("axclrtEngineGetUsage", () -> {
            LongByReference sys = new LongByReference();
            LongByReference cmm = new LongByReference();
            AxclException.check("axclrtEngineGetUsage(" + model + ")", rt.axclrtEngineGetUsage(model.toString(), sys, cmm));
            return cmm.getValue();
        });
    }

    /** Free CMM on the card now, in bytes ({@code axclrtGetDeviceProperties}: {@code freeCmmSize} is in KB). */
    public long freeCmmBytes() {
        return call("axclrtGetDeviceProperties", () -> {
            DeviceProperties p = new DeviceProperties();
            AxclException.check("axclrtGetDeviceProperties(" + deviceId + ")", rt.axclrtGetDeviceProperties(deviceId, p));
            return Integer.toUnsignedLong(p.freeCmmSize) * 1024;
        });
    }

    /** Loads an engine with its IO buffers on the card and pinned host buffers, allocated once for its life. */
    public Engine load(Path model) {
        Engine e = call("load " + model.getFileName(), () -> Engine.load(rt, model));
        synchronized (engines) {
            engines.add(e);
        }
        return e;
    }

    public int deviceId() {
        return deviceId;
    }

    /** {@code axclrtGetFullVersion()}: the runtime's version, and whether it is axfleet's emulated library. */
    public String version() {
        return version;
    }

    /** False once a call has not returned within its time limit; asks the card nothing. */
    public boolean answering() {
        Future<?> blocked = stuck;
        return blocked == null || blocked.isDone();
    }

    /** Runs {@code work} on the card's thread; it fails after the time limit, and so does every call after it. */
    <T> T call(String what, Callable<T> work) {
        Future<?> blocked = stuck;
        if (blocked != null && !blocked.isDone()) {
            throw new AxclException("the card has not answered an earlier call for over " + callTimeout.toMillis() + " ms; " + what
                    + " was not tried");
        }
        Future<T> f = thread.submit(() -> {
            if (context != null) {
                AxclException.check("axclrtSetCurrentContext", rt.axclrtSetCurrentContext(context));
            }
            return work.call();
        });
        try {
            return f.get(callTimeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            stuck = f;
            AxclProcess.stuck(library);
            throw new AxclException(what + ": the card did not answer within " + callTimeout.toMillis() + " ms");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new AxclException(what + ": " + e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AxclException(what + ": interrupted");
        }
    }

    /**
     * Unloads the engines and releases the device, in the API guide's order (engines, {@code axclrtEngineFinalize},
     * {@code axclrtDestroyContext}, {@code axclrtResetDevice}); {@code axclFinalize} is left to the process's exit
     * ({@link AxclProcess}). Nothing is called when a call is stuck: that would block for ever.
     */
    @Override
    public void close() {
        Future<?> blocked = stuck;
        if (blocked == null || blocked.isDone()) {
            try {
                thread.submit(() -> {
                    synchronized (engines) {
                        engines.forEach(Engine::release);
                        engines.clear();
                    }
                    if (engineReady) {
                        rt.axclrtEngineFinalize();
                    }
                    if (context != null) {
                        rt.axclrtDestroyContext(context);
                    }
                    if (deviceSet) {
                        rt.axclrtResetDevice(deviceId);
                    }
                }).get(callTimeout.toMillis(), TimeUnit.MILLISECONDS);
            } catch (Exception e) {
                // Releasing is a courtesy at exit; the process ends either way.
            }
        }
        thread.shutdownNow();
    }

    /** Runs {@code engine} on its inputs (in its input order) on the card's thread, under the time limit. */
    public float[][] run(Engine engine, Object... inputs) {
        return call("run " + engine.name(), () -> engine.execute(inputs));
    }

    /** Runs {@code engine} on its inputs given by name ({@code float[]} or {@code int[]}). */
    public float[][] run(Engine engine, java.util.Map<String, Object> inputs) {
        return run(engine, engine.ordered(inputs));
    }
}
