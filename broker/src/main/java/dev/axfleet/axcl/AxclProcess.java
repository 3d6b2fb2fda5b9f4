package dev.axfleet.axcl;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import java.io.File;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The one owner of AXCL in this process. axcl-docs doc_guide_axcl_api.md (axclInit, 限制) says "一个进程内只调用一次本接口"
 * (call it once per process) and pairs it with {@code axclFinalize} before the process exits; pyaxengine
 * axengine/_axclrt.py@3554448 does the same (:69-70: {@code axclInit} at import, {@code axclFinalize} at exit). The image
 * engines and the monitor's JNA probe share this when they live in one JVM ({@code axfleet up}); each uses its own
 * devices and contexts, and a restart of either releases only those.
 *
 * <p>A failed {@code axclInit} (driver not loaded, card not found) does not count: the next user tries again, since the
 * card may appear later (docs/hardware.md lists this as an assumption).
 */
public final class AxclProcess {
    /** The two calls this class makes. */
    interface Lib extends Library {
        int axclInit(String config);

        int axclFinalize();
    }

    private static final Map<String, Owned> OWNED = new LinkedHashMap<>();
    private static boolean hookAdded;

    private AxclProcess() {
    }

    private static final class Owned {
        final Lib lib;
        volatile boolean stuck;

        Owned(Lib lib) {
            this.lib = lib;
        }
    }

    /**
     * Makes sure {@code axclInit} has succeeded once in this process for {@code library}; calls it only when no earlier
     * call did. Call on the thread that will use AXCL (the manufacturer's code calls it from its main thread; nothing says
     * the thread matters).
     *
     * @return 0, or the error code of this (failed) attempt
     * @throws UnsatisfiedLinkError when the library cannot be loaded
     */
    public static synchronized int init(String library) {
        String key = key(library);
        if (OWNED.containsKey(key)) {
            return 0;
        }
        Lib lib = Native.load(library, Lib.class);
        int ret = lib.axclInit(null);
        if (ret == 0) {
            OWNED.put(key, new Owned(lib));
            if (!hookAdded) {
                Runtime.getRuntime().addShutdownHook(new Thread(AxclProcess::finalizeAll, "axcl-finalize"));
                hookAdded = true;
            }
        }
        return ret;
    }

    /** Whether {@code axclInit} has succeeded for {@code library} in this process. */
    public static synchronized boolean initialised(String library) {
        return OWNED.containsKey(key(library));
    }

    /**
     * A call into {@code library} has not returned: {@code axclFinalize} is not called at exit (it would wait on the same
     * card, and ../shared/axera.md §8.3 says it can abort the process).
     */
    public static synchronized void stuck(String library) {
        Owned o = OWNED.get(key(library));
        if (o != null) {
            o.stuck = true;
        }
    }

    /** At exit: {@code axclFinalize} for each library, each under a time limit so a wedged card cannot hold up the exit. */
    private static void finalizeAll() {
        Map<String, Owned> copy;
        synchronized (AxclProcess.class) {
            copy = new LinkedHashMap<>(OWNED);
            OWNED.clear();
        }
        for (Owned o : copy.values()) {
            if (o.stuck) {
                continue;
            }
            CompletableFuture<Void> f = CompletableFuture.runAsync(() -> o.lib.axclFinalize(), r -> {
                Thread t = new Thread(r, "axcl-finalize-call");
                t.setDaemon(true);
                t.start();
            });
            try {
                f.get(2, TimeUnit.SECONDS);
            } catch (Exception e) {
                // The process is ending either way; the host driver reclaims a dead process's card resources.
            }
        }
    }

    /** One key per library file: {@code axcl_rt} and {@code /usr/lib/axcl/libaxcl_rt.so} are the same library. */
    private static String key(String library) {
        try {
            File f = NativeLibrary.getInstance(library).getFile();
            return f == null ? library : f.getCanonicalPath();
        } catch (UnsatisfiedLinkError | IOException e) {
            return library;
        }
    }
}
