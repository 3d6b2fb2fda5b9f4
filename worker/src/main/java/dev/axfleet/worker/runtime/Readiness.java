package dev.axfleet.worker.runtime;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.function.BooleanSupplier;

/** Waiting for runtime processes to come up, and the side-effect-free probes used for it. */
final class Readiness {
    private Readiness() {
    }

    /**
     * Waits until {@code ready} holds, checking every {@code interval}; fails at once when one of the
     * processes exits, and after {@code timeout}.
     */
    static void await(List<RuntimeProcess> processes, BooleanSupplier ready, Duration timeout, Duration interval)
            throws RuntimeStartException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            for (RuntimeProcess p : processes) {
                if (!p.alive()) {
                    throw new RuntimeStartException(p.name() + " exited"
                            + p.exitCode().map(c -> " with code " + c).orElse("") + " before it was ready; last output:\n"
                            + p.recentOutput());
                }
            }
            if (ready.getAsBoolean()) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new RuntimeStartException(processes.get(processes.size() - 1).name() + " was not ready after " + timeout
                        + "; last output:\n" + processes.get(processes.size() - 1).recentOutput());
            }
            try {
                Thread.sleep(interval.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new RuntimeStartException("interrupted while waiting for the runtime");
            }
        }
    }

    /** Whether something accepts TCP connections on the loopback port: no request, so no side effect. */
    static boolean listening(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 500);
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
