package dev.axfleet.os;

import com.sun.jna.Library;
import com.sun.jna.Native;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * POSIX signals for stopping the card's runtimes politely. The JDK sends only SIGTERM and SIGKILL; the
 * legacy runtimes free the card on SIGINT (and {@code axllm serve} on SIGTERM only since ax-llm PR #66),
 * so SIGINT comes first (../shared/axera.md §8.3).
 */
public final class Signals {
    public static final int SIGINT = 2;
    public static final int SIGTERM = 15;

    private Signals() {
    }

    /** Sends {@code signal}; false when the process is gone or not ours to signal. */
    public static boolean send(long pid, int signal) {
        return LibC.INSTANCE.kill((int) pid, signal) == 0;
    }

    /** Waits up to {@code d} for the process to exit; true when it has. */
    public static boolean awaitExit(ProcessHandle h, Duration d) {
        try {
            h.onExit().get(d.toMillis(), TimeUnit.MILLISECONDS);
            return true;
        } catch (Exception e) {
            return !h.isAlive();
        }
    }

    private interface LibC extends Library {
        LibC INSTANCE = Native.load("c", LibC.class);

        int kill(int pid, int sig);
    }
}
