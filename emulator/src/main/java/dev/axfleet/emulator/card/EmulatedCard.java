package dev.axfleet.emulator.card;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * An emulated AX650 card whose state lives in a folder, so that every process that "uses" it (the
 * {@code axcl-smi} stand-in, the fake {@code libaxcl_rt.so}, the emulated runtimes, the {@code modprobe}
 * stand-in) and the test driving it see the same card:
 * <pre>
 * state.properties   the card: present, hang, temperature, memory, CMM, load, boot count, faults
 * users/&lt;pid&gt;        processes using the card: "name cmm_kib" (dead pids are ignored)
 * bin/axcl-smi       prints the manufacturer's documented formats (../shared/axera.md §3)
 * bin/modprobe       unloads and loads the driver modules; refuses while a process uses the card
 * dev/axcl_host      the device node: emulated runtimes hold it open, as real ones hold /dev/axcl_host
 * lib/libaxcl_rt.so  built on request ({@link #buildLibrary}): the functions the JNA probe calls
 * </pre>
 * Faults: {@link #lose()} (not found, 0x8030010b), {@link #hang()} (the card and axcl-smi stop answering),
 * {@link #setTemperature}, {@link #reserveCmm} (CMM full), {@link #failReboots} (a reboot that does not
 * bring it back). {@link #cureAt} says which recovery step brings a lost or hung card back.
 */
public final class EmulatedCard {
    /** The recovery step that cures a lost or hung card. */
    public enum Cure { REBOOT, RELOAD, NEVER }

    public static final long CMM_TOTAL_KIB = 7_208_960;
    static final long MEM_TOTAL_KIB = 945 * 1024;

    private final Path dir;

    private EmulatedCard(Path dir) {
        this.dir = dir.toAbsolutePath();
    }

    /** A healthy idle card (41 °C, 18 MiB of CMM used), with its tools in {@code dir/bin}. */
    public static EmulatedCard create(Path dir) {
        EmulatedCard card = new EmulatedCard(dir);
        try {
            Files.createDirectories(card.dir.resolve("users"));
            Files.createDirectories(card.dir.resolve("bin"));
            Files.createDirectories(card.dir.resolve("dev"));
            if (!Files.exists(card.deviceNode())) {
                Files.createFile(card.deviceNode());
            }
            Properties p = new Properties();
            p.setProperty("present", "true");
            p.setProperty("hang", "false");
            p.setProperty("driver_loaded", "true");
            p.setProperty("temp_mc", "41000");
            p.setProperty("mem_used_kib", String.valueOf(149 * 1024));
            p.setProperty("cmm_base_kib", "18876");
            p.setProperty("cmm_reserved_kib", "0");
            p.setProperty("cpu", "1");
            p.setProperty("npu", "0");
            p.setProperty("boot", "1");
            p.setProperty("cure", Cure.REBOOT.name());
            p.setProperty("reboot_failures", "0");
            p.setProperty("reboot_ms", "1500");
            p.setProperty("resetting_until", "0");
            p.setProperty("reboots", "0");
            p.setProperty("reloads", "0");
            card.write(p);
            card.script("axcl-smi", "axcl-smi");
            card.script("modprobe", "modprobe");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return card;
    }

    public static EmulatedCard open(Path dir) {
        if (!Files.isRegularFile(dir.resolve("state.properties"))) {
            throw new IllegalArgumentException("no emulated card in " + dir);
        }
        return new EmulatedCard(dir);
    }

    public Path dir() {
        return dir;
    }

    public Path axclSmi() {
        return dir.resolve("bin/axcl-smi");
    }

    public Path deviceNode() {
        return dir.resolve("dev/axcl_host");
    }

    /**
     * Compiles the emulated {@code libaxcl_rt.so} for this card with {@code cc} and returns its path. The
     * library answers the monitor's JNA probe from this card's state (the C source is in the emulator's
     * resources: card/libaxcl_rt.c).
     */
    public Path buildLibrary() {
        try {
            Path lib = Files.createDirectories(dir.resolve("lib"));
            Path source = lib.resolve("libaxcl_rt.c");
            try (var in = EmulatedCard.class.getResourceAsStream("libaxcl_rt.c")) {
                Files.write(source, in.readAllBytes());
            }
            Path out = lib.resolve("libaxcl_rt.so");
            Process cc = new ProcessBuilder("cc", "-shared", "-fPIC", "-O1", "-Wall", "-Werror",
                    "-DAXFLEET_CARD_DIR=\"" + dir.toString().replace("\\", "\\\\").replace("\"", "\\\"") + "\"",
                    "-o", out.toString(), source.toString(), "-lm").redirectErrorStream(true).start();
            String output = new String(cc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (cc.waitFor() != 0) {
                throw new IllegalStateException("cc failed to build the emulated libaxcl_rt.so:\n" + output);
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while building libaxcl_rt.so", e);
        }
    }

    public Path modprobe() {
        return dir.resolve("bin/modprobe");
    }

    // ---- faults, as tests set them ----

    public void lose() {
        update(p -> p.setProperty("present", "false"));
    }

    public void hang() {
        update(p -> p.setProperty("hang", "true"));
    }

    public void setTemperature(double celsius) {
        update(p -> p.setProperty("temp_mc", String.valueOf(Math.round(celsius * 1000))));
    }

    /** The card's average CPU and NPU load, in whole percent (axcl-smi's table; libaxcl_rt reports hundredths). */
    public void setLoad(int cpuPercent, int npuPercent) {
        update(p -> {
            p.setProperty("cpu", String.valueOf(cpuPercent));
            p.setProperty("npu", String.valueOf(npuPercent));
        });
    }

    /** Takes CMM as another process would, e.g. a second model loaded by hand. */
    public void reserveCmm(long kib) {
        update(p -> p.setProperty("cmm_reserved_kib", String.valueOf(kib)));
    }

    public void failReboots(int times) {
        update(p -> p.setProperty("reboot_failures", String.valueOf(times)));
    }

    public void cureAt(Cure cure) {
        update(p -> p.setProperty("cure", cure.name()));
    }

    /**
     * The card is listed but cannot be activated: axcl-smi prints {@code active device %d fail, ret = 0x%x} and
     * libaxcl_rt's {@code axclrtSetDevice} fails (runtime/device NO_CONNECT; the real code is not documented).
     */
    public void failActivation(boolean fail) {
        update(p -> p.setProperty("activation_fail", String.valueOf(fail)));
    }

    /**
     * The next {@code runs} axcl-smi runs find another axcl-smi running (a person's {@code watch axcl-smi}) and print
     * {@code %s is already running, please try later.}, as the binary does (its format strings; how it detects the other
     * one is not documented).
     */
    public void smiBusy(int runs) {
        update(p -> p.setProperty("smi_busy", String.valueOf(runs)));
    }

    /** One axcl-smi run: whether another is running (a busy run used up). */
    boolean takeSmiBusy() {
        boolean[] busy = {false};
        update(p -> {
            int left = Integer.parseInt(p.getProperty("smi_busy", "0"));
            if (left > 0) {
                busy[0] = true;
                p.setProperty("smi_busy", String.valueOf(left - 1));
            }
        });
        return busy[0];
    }

    boolean activationFails() {
        return bool(update(p -> { }), "activation_fail");
    }

    /**
     * Turns on test-only faults of the card ({@link dev.axfleet.emulator.TestFault}s whose {@code where} is CARD): axcl-smi's
     * stand-in, the emulated libaxcl_rt.so (its {@code test_faults} key) and the runtimes' hold on the card read them. Never on
     * by default. {@code DRIVER_NOT_LOADED} unloads the driver at once.
     */
    public void testFaults(java.util.Collection<dev.axfleet.emulator.TestFault> faults) {
        String names = faults.stream().filter(f -> f.where() == dev.axfleet.emulator.TestFault.Where.CARD).map(Enum::name)
                .collect(java.util.stream.Collectors.joining(","));
        update(p -> {
            p.setProperty("test_faults", names);
            if (faults.contains(dev.axfleet.emulator.TestFault.DRIVER_NOT_LOADED)) {
                p.setProperty("driver_loaded", "false");
            }
        });
    }

    /** Whether a test-only fault of the card is on. */
    public boolean testFault(dev.axfleet.emulator.TestFault fault) {
        return java.util.Arrays.asList(update(p -> { }).getProperty("test_faults", "").split(",")).contains(fault.name());
    }

    /** Whether the driver's modules are loaded (the emulated {@code modprobe} unloads and loads them). */
    public boolean driverLoaded() {
        return bool(update(p -> { }), "driver_loaded");
    }

    /**
     * The host's {@code /proc/meminfo} CMA lines as this card's users leave them: the Pi's default 64 MiB, each process
     * using the card holding 10 MiB for its DMA buffers (the field notes' 8-12 MiB, "dma buf size" in axcl.json;
     * docs/hardware.md A14), or 40 MiB under the test fault CMA_EXHAUSTED.
     */
    public String hostMeminfo() {
        long total = 64 * 1024;
        long used = Math.min(total, (long) users().size() * (testFault(dev.axfleet.emulator.TestFault.CMA_EXHAUSTED) ? 40 : 10) * 1024);
        return "CmaTotal:       " + total + " kB\nCmaFree:        " + (total - used) + " kB\n";
    }

    /**
     * The host's kernel log as far as this card shows in it: the line the field notes report when the host's CMA is
     * exhausted (axera.md §8.2, {@code ax_sglist_alloc_mem ... failed}), once the users' buffers no longer fit.
     */
    public String kernelLog() {
        boolean exhausted = hostMeminfo().contains("CmaFree:        0 kB");
        return exhausted ? "[emulated] axcl_host: ax_sglist_alloc_mem failed: host CMA exhausted\n" : "";
    }

    /** Engine runs fail with runtime/engine EXECUTE_FAIL (0x8030070c) until called with false. */
    public void failExecutions(boolean fail) {
        update(p -> p.setProperty("execute_fail", String.valueOf(fail)));
    }

    public void rebootTakes(long millis) {
        update(p -> p.setProperty("reboot_ms", String.valueOf(millis)));
    }

    // ---- what the card is now ----

    /** A snapshot of the card, with a finished reboot settled first. */
    public Snapshot snapshot() {
        Properties p = update(q -> { });
        List<User> users = users();
        long cmmUsed = Long.parseLong(p.getProperty("cmm_base_kib")) + Long.parseLong(p.getProperty("cmm_reserved_kib"))
                + users.stream().mapToLong(User::cmmKiB).sum() + lingering();
        boolean resetting = Long.parseLong(p.getProperty("resetting_until")) > 0;
        boolean visible = bool(p, "present") && bool(p, "driver_loaded") && !resetting;
        return new Snapshot(visible, bool(p, "hang"), resetting, Long.parseLong(p.getProperty("temp_mc")),
                Long.parseLong(p.getProperty("mem_used_kib")), cmmUsed, Integer.parseInt(p.getProperty("cpu")),
                Integer.parseInt(p.getProperty("npu")), Long.parseLong(p.getProperty("boot")), users,
                Integer.parseInt(p.getProperty("reboots")), Integer.parseInt(p.getProperty("reloads")));
    }

    /** How many engine runs (axclrtEngineExecute) the card has done for in-process engines since it was created. */
    public long engineRuns() {
        try {
            Path f = dir.resolve("engine_runs");
            return Files.exists(f) ? Long.parseLong(Files.readString(f).trim()) : 0;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The card as one moment saw it.
     *
     * @param visible whether the driver sees the card (present, driver loaded, not rebooting)
     * @param boot    counts card resets; a runtime that loaded before a reset has lost its models
     */
    public record Snapshot(boolean visible, boolean hung, boolean resetting, long tempMilliC, long memUsedKiB, long cmmUsedKiB,
                           int cpu, int npu, long boot, List<User> users, int reboots, int reloads) {
        public boolean answering() {
            return visible && !hung;
        }

        public long cmmFreeKiB() {
            return CMM_TOTAL_KIB - cmmUsedKiB;
        }
    }

    /** A process using the card. */
    public record User(long pid, String name, long cmmKiB) {
    }

    /** Registers a process as a user of the card, with the CMM it holds; the entry dies with the process. */
    public void register(long pid, String name, long cmmKiB) {
        try {
            Files.writeString(dir.resolve("users/" + pid), name.replace('\n', ' ') + "\n" + cmmKiB + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public void unregister(long pid) {
        try {
            Path f = dir.resolve("users/" + pid);
            if (testFault(dev.axfleet.emulator.TestFault.CMM_FREED_LATE)) {
                linger(f, pid);
            }
            Files.deleteIfExists(f);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Test fault CMM_FREED_LATE: a gone process's CMM stays taken a while, though the card no longer lists it (U30, A19). */
    private void linger(Path user, long pid) throws IOException {
        List<String> lines;
        try {
            lines = Files.readAllLines(user);
        } catch (java.nio.file.NoSuchFileException e) {
            return;
        }
        if (lines.size() < 2) {
            return;
        }
        Path d = Files.createDirectories(dir.resolve("lingering"));
        Files.writeString(d.resolve(String.valueOf(pid)), lines.get(1).trim() + "\n"
                + (System.currentTimeMillis() + dev.axfleet.emulator.TestFault.LINGER_MS) + "\n");
    }

    /** The CMM of gone processes still taken under CMM_FREED_LATE, in KiB; what has lingered long enough is let go. */
    private long lingering() {
        Path d = dir.resolve("lingering");
        if (!Files.isDirectory(d)) {
            return 0;
        }
        long sum = 0;
        try (Stream<Path> files = Files.list(d)) {
            for (Path f : files.toList()) {
                try {
                    List<String> lines = Files.readAllLines(f);
                    if (System.currentTimeMillis() < Long.parseLong(lines.get(1).trim())) {
                        sum += Long.parseLong(lines.get(0).trim());
                    } else {
                        Files.deleteIfExists(f);
                    }
                } catch (IOException | RuntimeException e) {
                    // Being written right now; it is counted on the next look.
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return sum;
    }

    private List<User> users() {
        List<User> out = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir.resolve("users"))) {
            for (Path f : files.toList()) {
                long pid;
                try {
                    pid = Long.parseLong(f.getFileName().toString());
                } catch (NumberFormatException e) {
                    continue;
                }
                if (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
                    try {
                        List<String> lines = Files.readAllLines(f);
                        out.add(new User(pid, lines.get(0), Long.parseLong(lines.get(1).trim())));
                    } catch (IOException | RuntimeException e) {
                        // Being written right now; it is counted on the next look.
                    }
                } else {
                    if (testFault(dev.axfleet.emulator.TestFault.CMM_FREED_LATE)) {
                        linger(f, pid);
                    }
                    Files.deleteIfExists(f);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    // ---- what the tools do to it ----

    /** {@code axcl-smi reboot}: the card goes away and comes back after {@code reboot_ms}, cured unless a failure is due. */
    void reboot() {
        update(p -> {
            p.setProperty("reboots", String.valueOf(Integer.parseInt(p.getProperty("reboots")) + 1));
            p.setProperty("resetting_until", String.valueOf(System.currentTimeMillis() + Long.parseLong(p.getProperty("reboot_ms"))));
            int failures = Integer.parseInt(p.getProperty("reboot_failures"));
            boolean cures = failures == 0 && Cure.valueOf(p.getProperty("cure")) == Cure.REBOOT;
            if (java.util.Arrays.asList(p.getProperty("test_faults", "").split(",")).contains(dev.axfleet.emulator.TestFault.REBOOT_STAYS_AWAY.name())) {
                p.setProperty("present", "false");
                cures = false;
            }
            p.setProperty("reboot_failures", String.valueOf(Math.max(0, failures - 1)));
            p.setProperty("reboot_cures", String.valueOf(cures));
        });
    }

    /** {@code modprobe -r}: fails while a process uses the card, as the real driver does. */
    String unloadDriver() {
        List<User> users = users();
        if (!users.isEmpty()) {
            return "modprobe: FATAL: Module axcl_host is in use.";
        }
        update(p -> p.setProperty("driver_loaded", "false"));
        return null;
    }

    /** {@code modprobe axcl_host} after an unload: every card is reset; cured when the cure is a reload or less. */
    void loadDriver() {
        update(p -> {
            if (bool(p, "driver_loaded")) {
                return;
            }
            p.setProperty("driver_loaded", "true");
            p.setProperty("reloads", String.valueOf(Integer.parseInt(p.getProperty("reloads")) + 1));
            p.setProperty("boot", String.valueOf(Long.parseLong(p.getProperty("boot")) + 1));
            if (Cure.valueOf(p.getProperty("cure")) != Cure.NEVER) {
                p.setProperty("present", "true");
                p.setProperty("hang", "false");
            }
        });
    }

    // ---- storage ----

    /** Reads, changes and writes the state under a file lock; settles a reboot whose time is up. */
    private Properties update(Consumer<Properties> change) {
        try (FileChannel lock = FileChannel.open(dir.resolve("state.lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
             FileLock ignored = lock.lock()) {
            Properties p = new Properties();
            try (Reader r = Files.newBufferedReader(dir.resolve("state.properties"))) {
                p.load(r);
            }
            long until = Long.parseLong(p.getProperty("resetting_until"));
            if (until > 0 && System.currentTimeMillis() >= until) {
                p.setProperty("resetting_until", "0");
                p.setProperty("boot", String.valueOf(Long.parseLong(p.getProperty("boot")) + 1));
                if (Boolean.parseBoolean(p.getProperty("reboot_cures", "false"))) {
                    p.setProperty("present", "true");
                    p.setProperty("hang", "false");
                }
            }
            change.accept(p);
            write(p);
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void write(Properties p) throws IOException {
        Path tmp = dir.resolve("state.properties.tmp");
        try (Writer w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
            p.store(w, "axfleet emulated AX650 card (not a real card)");
        }
        Files.move(tmp, dir.resolve("state.properties"), java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    private void script(String name, String subcommand) throws IOException {
        Path f = dir.resolve("bin/" + name);
        List<String> java = dev.axfleet.emulator.EmulatedModel.javaCommand();
        StringBuilder sb = new StringBuilder("#!/bin/sh\n# axfleet's emulated " + name + " (not the card's tool)\nexec");
        for (String word : java) {
            sb.append(' ').append(quote(word));
        }
        sb.append(' ').append(subcommand).append(" --card-dir ").append(quote(dir.toString())).append(" \"$@\"\n");
        Files.writeString(f, sb.toString());
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    private static String quote(String s) {
        return "'" + s.replace("'", "'\\''") + "'";
    }

    private static boolean bool(Properties p, String key) {
        return Boolean.parseBoolean(p.getProperty(key));
    }
}
