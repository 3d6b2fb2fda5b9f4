package dev.axfleet.worker;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A small network of this test's own on one machine: a broker host and Pis as Linux network namespaces ({@code ip netns}),
 * each Pi joined to the broker host by a veth pair of its own, and one more pair from the test's own namespace to the
 * broker host, so the test talks to the broker as an installation's device would. Addresses are in a 10.x.0.0/16 no
 * route of this machine uses. As root it runs {@code ip} itself; otherwise through {@code sudo -n} (CI), and processes
 * inside a namespace then run as this user again ({@code setpriv}).
 */
final class Netns implements AutoCloseable {
    private final String prefix;
    private final int net;
    private final List<String> namespaces = new ArrayList<>();
    private final List<String> hostLinks = new ArrayList<>();
    private static final boolean ROOT = "0".equals(id("-u"));

    private Netns(String prefix, int net) {
        this.prefix = prefix;
        this.net = net;
    }

    /** Whether iproute2's {@code ip} is installed. */
    static boolean installed() {
        return Stream.of("/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip").anyMatch(p -> Files.isExecutable(Path.of(p)));
    }

    /** Whether this machine lets the test make namespaces (root, or passwordless sudo). */
    static boolean permitted() {
        String probe = "axfprobe" + ThreadLocalRandom.current().nextInt(100_000);
        try {
            boolean ok = run(List.of("ip", "netns", "add", probe), false) == 0;
            if (ok) {
                run(List.of("ip", "netns", "del", probe), false);
            }
            return ok;
        } catch (UncheckedIOException e) {
            return false;
        }
    }

    /** A broker host namespace ({@link #broker()}, address {@link #brokerAddress()}) and a veth to it from the test. */
    static Netns create() {
        int n = free10();
        Netns t = new Netns("axf" + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x1000, 0xffff)), n);
        try {
            t.add(t.broker());
            // The test's own end: the device and the watcher connect from here.
            String here = t.prefix + "h0";
            String there = t.prefix + "b0";
            t.hostLinks.add(here);
            must(List.of("ip", "link", "add", here, "type", "veth", "peer", "name", there));
            must(List.of("ip", "link", "set", there, "netns", t.broker()));
            must(List.of("ip", "addr", "add", t.address(0, 2) + "/24", "dev", here));
            must(List.of("ip", "link", "set", here, "up"));
            t.inside(t.broker(), "ip", "addr", "add", t.brokerAddress() + "/24", "dev", there);
            t.inside(t.broker(), "ip", "link", "set", there, "up");
            return t;
        } catch (RuntimeException e) {
            t.close();
            throw e;
        }
    }

    /** A second octet no route of this machine uses: 10.n.0.0/16 stays the test's own. */
    private static int free10() {
        String routes;
        try {
            Process p = new ProcessBuilder("ip", "-4", "route", "show", "table", "all").redirectErrorStream(true).start();
            routes = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            p.waitFor(5, TimeUnit.SECONDS);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        for (int tries = 0; tries < 100; tries++) {
            int n = 200 + ThreadLocalRandom.current().nextInt(50);
            if (!routes.contains("10." + n + ".") && !routes.contains(" 10.0.0.0/8")) {
                return n;
            }
        }
        throw new IllegalStateException("no free 10.x.0.0/16 on this machine: " + routes);
    }

    String broker() {
        return prefix + "-broker";
    }

    /** The broker host's address on the test's own link. */
    String brokerAddress() {
        return address(0, 1);
    }

    /** A Pi: its namespace, joined to the broker host by its own veth ({@code index} 1, 2, ...); returns the broker's address there. */
    String addPi(int index) {
        String ns = pi(index);
        add(ns);
        String piEnd = prefix + "p" + index;
        String brokerEnd = prefix + "b" + index;
        must(List.of("ip", "link", "add", piEnd, "netns", ns, "type", "veth", "peer", "name", brokerEnd, "netns", broker()));
        inside(ns, "ip", "addr", "add", address(index, 2) + "/24", "dev", piEnd);
        inside(ns, "ip", "link", "set", piEnd, "up");
        inside(broker(), "ip", "addr", "add", address(index, 1) + "/24", "dev", brokerEnd);
        inside(broker(), "ip", "link", "set", brokerEnd, "up");
        return address(index, 1);
    }

    String pi(int index) {
        return prefix + "-pi" + index;
    }

    /** Pulls Pi {@code index} off the network ({@code up} false), or plugs it back in. */
    void cable(int index, boolean up) {
        inside(broker(), "ip", "link", "set", prefix + "b" + index, up ? "up" : "down");
    }

    /** The command line that runs {@code command} inside {@code ns} as this test's user. */
    List<String> exec(String ns, List<String> command) {
        List<String> out = new ArrayList<>(List.of("ip", "netns", "exec", ns));
        if (!ROOT) {
            out.addAll(List.of("setpriv", "--reuid=" + id("-u"), "--regid=" + id("-g"), "--clear-groups", "--"));
        }
        out.addAll(command);
        return privileged(out);
    }

    private String address(int link, int host) {
        return "10." + net + "." + link + "." + host;
    }

    private void add(String ns) {
        must(List.of("ip", "netns", "add", ns));
        namespaces.add(ns);
        inside(ns, "ip", "link", "set", "lo", "up");
    }

    private void inside(String ns, String... command) {
        List<String> c = new ArrayList<>(List.of("ip", "netns", "exec", ns));
        c.addAll(List.of(command));
        must(c);
    }

    /** Deletes the namespaces (their veth ends go with them) and the test's own end. */
    @Override
    public void close() {
        for (String l : hostLinks) {
            run(List.of("ip", "link", "del", l), false);
        }
        for (String ns : namespaces) {
            run(List.of("ip", "netns", "del", ns), false);
        }
    }

    private static String id(String flag) {
        try {
            Process p = new ProcessBuilder("id", flag).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            p.waitFor(5, TimeUnit.SECONDS);
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static List<String> privileged(List<String> command) {
        if (ROOT) {
            return command;
        }
        List<String> out = new ArrayList<>(List.of("sudo", "-n"));
        out.addAll(command);
        return out;
    }

    private static void must(List<String> command) {
        if (run(command, true) != 0) {
            throw new IllegalStateException("failed: " + String.join(" ", command));
        }
    }

    private static int run(List<String> command, boolean loud) {
        try {
            Process p = new ProcessBuilder(privileged(command)).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(20, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return -1;
            }
            if (p.exitValue() != 0 && loud) {
                System.err.println(String.join(" ", command) + ": " + out.trim());
            }
            return p.exitValue();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
