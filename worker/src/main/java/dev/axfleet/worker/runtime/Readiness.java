package dev.axfleet.worker.runtime;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.function.BooleanSupplier;

/** Waiting for runtime processes to come up, and the side-effect-free probes used for it. */
public final class Readiness {
    private Readiness() {
    }

    /**
     * Waits until {@code ready} holds, checking every {@code interval}; fails at once when one of the
     * processes exits, and after {@code timeout}.
     */
    public static void await(List<RuntimeProcess> processes, BooleanSupplier ready, Duration timeout, Duration interval)
            throws RuntimeStartException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            for (RuntimeProcess p : processes) {
                if (!p.alive()) {
                    if (cardMissing(p.recentOutput())) {
                        throw new RuntimeStartException("the AX650 card is not there: " + p.name() + " could not open /dev/axcl_host"
                                + " (axcl init fail 0x8030010b). Is the driver loaded (lsmod | grep axcl; after a kernel upgrade: sudo dkms"
                                + " autoinstall) and the card seen on PCIe (lspci shows Axera ... Device 0650)? docs/troubleshooting.md, \"The card\"");
                    }
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

    /**
     * The runtime's own words for a card it cannot open: {@code open /dev/axcl_host fail} and {@code axcl init fail, ret =
     * 0x8030010b} (M5 docs faq, "card not found"; AXERA-TECH/ax-llm axcl runtime output).
     */
    static boolean cardMissing(String output) {
        return output.contains("0x8030010b") || output.contains("open /dev/axcl_host fail");
    }
}
