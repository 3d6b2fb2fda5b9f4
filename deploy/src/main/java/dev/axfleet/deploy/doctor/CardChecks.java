package dev.axfleet.deploy.doctor;

import com.sun.jna.Library;
import com.sun.jna.Native;
import dev.axfleet.axcl.DeviceList;
import dev.axfleet.axcl.DeviceProperties;
import dev.axfleet.broker.CardReadings;
import dev.axfleet.deploy.doctor.Check.Need;
import dev.axfleet.monitor.probe.AxclProbe;
import dev.axfleet.monitor.probe.DeviceHealth;
import dev.axfleet.monitor.probe.SmiParser;
import dev.axfleet.monitor.probe.Tool;
import dev.axfleet.worker.runtime.AxllmServeRuntime;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The card itself: the driver, axcl-smi's formats and failure lines, a reboot and a driver reload, the JNA probe's
 * units, {@code axclInit} twice, the host's CMA. Each reads the card through the monitor's own adapters (SmiParser,
 * SmiProbe, AxclProbe) and the monitor's settings.
 */
final class CardChecks {
    private CardChecks() {
    }

    /** The binary's {@code %-20s: %d} labelled {@code temperature} (docs/hardware.md F20). */
    private static final Pattern TEMP_LINE = Pattern.compile("(?m)^temperature\\s*:\\s*(-?\\d{1,12})\\s*$");
    private static final Pattern OUT_OF_RANGE = Pattern.compile("(?m)^(.*)device index (\\d+) is out of connected devices number (\\d+)");
    private static final Pattern INIT_FAIL = Pattern.compile("axcl init fail, ret = (0x[0-9a-fA-F]+)");

    static List<Check> readOnly() {
        return List.of(
                Check.of("F14", "the driver is loaded and the card is on PCIe", Duration.ofSeconds(30), Set.of(), List.of(), CardChecks::driver),
                Check.of("F20", "axcl-smi's table in the documented layout", Duration.ofSeconds(30), Set.of(), List.of(), CardChecks::table),
                Check.of("U13", "the exact info --temp line", Duration.ofSeconds(30), Set.of(), List.of("F20", "A9"), CardChecks::tempLine),
                Check.of("U27", "axcl-smi's failure lines", Duration.ofSeconds(60), Set.of(), List.of("F20", "A9"), CardChecks::failureLines));
    }

    static List<Check> disruptive() {
        return List.of(
                Check.of("U16", "a lost card as axcl-smi shows it (driver unloaded and loaded again)", Duration.ofMinutes(3),
                        Set.of(Need.DISRUPTIVE), List.of("F22"), CardChecks::lostCard),
                Check.of("U14", "reboot timing and what a rebooting card looks like", Duration.ofMinutes(4), Set.of(Need.DISRUPTIVE),
                        List.of("F21", "A9"), CardChecks::reboot));
    }

    static List<Check> idle() {
        return List.of(
                Check.of("U12", "the properties struct's units (JNA probe against axcl-smi)", Duration.ofSeconds(60), Set.of(Need.CARD_ALONE),
                        List.of("F23"), CardChecks::units),
                Check.of("U23", "axclInit twice, and properties without activation", Duration.ofSeconds(60), Set.of(Need.CARD_ALONE),
                        List.of("A1", "A2", "F36", "F37"), CardChecks::axclCalls),
                Check.of("U21", "two card users in one host (the host's CMA)", Duration.ofMinutes(8), Set.of(Need.CARD_ALONE), List.of("A14"),
                        CardChecks::twoUsers));
    }

    // ---- read-only ----

    static Verdict driver(Lab lab) {
        List<String> problems = new ArrayList<>();
        Path node = lab.monitor().deviceNode();
        boolean there = Files.exists(node);
        lab.note("device node " + node + (there ? " is there" : " is missing"));
        List<String> missing = List.of();
        try {
            List<String> loaded = lab.target().loadedModules();
            missing = Target.MODULES.stream().filter(m -> !loaded.contains(m)).toList();
            lab.note("driver modules loaded: " + (loaded.isEmpty() ? "none" : String.join(" ", loaded)));
        } catch (Verdict.Skip e) {
            lab.note("driver modules: unknown (" + e.getMessage() + ")");
        }
        String pcie = lab.target().pcie();
        lab.note("PCIe: " + (pcie.isEmpty() ? "no Axera device 0650 in lspci" : pcie));
        if (!there) {
            problems.add(node + " is missing");
        }
        if (!missing.isEmpty()) {
            problems.add("driver modules not loaded: " + String.join(" ", missing)
                    + " (after a kernel upgrade: sudo dkms autoinstall -k \"$(uname -r)\", then sudo modprobe axcl_host)");
        }
        if (pcie.isEmpty()) {
            problems.add("lspci lists no Axera device 0650 (/boot/firmware/config.txt needs dtparam=pciex1 and "
                    + "dtoverlay=pciex1-compat-pi5,no-mip; axera.md §8.4)");
        }
        return problems.isEmpty() ? Verdict.verified(node + ", the five driver modules, and the card on PCIe (" + Host.firstLine(pcie) + ")")
                : Verdict.differs(String.join("; ", problems));
    }

    static Verdict table(Lab lab) {
        Tool.Result r = lab.smi();
        DeviceHealth h = SmiParser.table(r.output(), 0);
        CardReadings c = h.readings();
        if (h.status() != DeviceHealth.Status.ANSWERING) {
            return Verdict.differs("card 0 not read from the table: " + h.status().name().toLowerCase(Locale.ROOT) + " (" + h.detail() + ")"
                    + (h.warnings().isEmpty() ? "" : "; " + String.join("; ", h.warnings())));
        }
        List<String> unread = new ArrayList<>();
        if (c.temperatureC() == null) {
            unread.add("temperature");
        }
        if (c.cpuPercent() == null || c.npuPercent() == null) {
            unread.add("CPU/NPU load");
        }
        if (c.cmmUsedMiB() == null || c.cmmTotalMiB() == null) {
            unread.add("CMM");
        }
        if (c.memoryUsedMiB() == null) {
            unread.add("system memory");
        }
        String read = "card 0: " + c.temperatureC() + " °C, CPU " + c.cpuPercent() + " %, NPU " + c.npuPercent() + " %, memory "
                + c.memoryUsedMiB() + "/" + c.memoryTotalMiB() + " MiB, CMM " + c.cmmUsedMiB() + "/" + c.cmmTotalMiB() + " MiB, "
                + c.processes().size() + " process(es)";
        if (!unread.isEmpty() || !h.warnings().isEmpty()) {
            return Verdict.differs("the table's layout is not the documented one: " + String.join(", ", unread) + " not read"
                    + (h.warnings().isEmpty() ? "" : " (" + String.join("; ", h.warnings()) + ")") + "; " + read
                    + ". Paste the table into monitor/src/test/resources/axcl-smi/");
        }
        return Verdict.verified(read);
    }

    static Verdict tempLine(Lab lab) {
        Tool.Result r = lab.smi("info", "--temp", "-d", "0");
        if (!r.ok()) {
            return Verdict.differs("axcl-smi info --temp -d 0 failed (exit " + r.exitCode() + "): " + Tool.oneLine(r.output(), 160));
        }
        Matcher m = TEMP_LINE.matcher(r.output());
        OptionalLong parsed = SmiParser.tempMilliC(r.output());
        String first = Host.firstLine(r.output().strip());
        String layout = first.startsWith("Device ID") ? "a Device ID line first (A9)" : "the temperature line alone (A9)";
        if (!m.find()) {
            return Verdict.differs("no `temperature : N` line (the binary's %-20s: %d); SmiParser took the last integer ("
                    + (parsed.isPresent() ? parsed.getAsLong() / 1000.0 + " °C" : "none") + "). Output: " + Tool.oneLine(r.output(), 160));
        }
        long raw = Long.parseLong(m.group(1));
        if (Math.abs(raw) < 1000) {
            return Verdict.differs("`temperature : " + raw + "`: °C, not °C × 1000 as doc_guide_axcl_smi.md:142 says (SmiParser reads values "
                    + "below 1000 as °C, so the monitor copes); " + layout + ". Update monitor/src/test/resources/axcl-smi/info-temp.txt");
        }
        return Verdict.verified("`temperature : " + raw + "` = " + raw / 1000.0 + " °C (°C × 1000), " + layout);
    }

    static Verdict failureLines(Lab lab) throws InterruptedException {
        Tool.Result r = lab.smi("-d", "5");
        Matcher m = OUT_OF_RANGE.matcher(r.output());
        DeviceHealth h = SmiParser.table(r.output(), 5);
        // Two axcl-smi at once, as a person's `watch axcl-smi` beside the monitor: does one say "already running"?
        List<CompletableFuture<Tool.Result>> runs = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            runs.add(CompletableFuture.supplyAsync(() -> Tool.run(lab.monitor().axclSmi(), null, lab.monitor().probeTimeout())));
        }
        int busy = 0;
        for (CompletableFuture<Tool.Result> f : runs) {
            Tool.Result one = f.join();
            if (SmiParser.busy(one.output())) {
                busy++;
                lab.note("already running: " + Tool.oneLine(one.output(), 160));
            }
        }
        String concurrent = busy + " of 4 runs at once said `is already running, please try later.`";
        if (!m.find()) {
            return Verdict.differs("`axcl-smi -d 5` printed no `device index 5 is out of connected devices number N` line (the monitor read it as "
                    + h.status().name().toLowerCase(Locale.ROOT) + ": " + h.detail() + "); " + concurrent);
        }
        String prefix = m.group(1).strip();
        return Verdict.verified("`device index 5 is out of connected devices number " + m.group(3) + "`"
                + (prefix.isEmpty() ? " with no prefix" : " after the prefix `" + prefix + "`") + " (A9); the monitor reads it as "
                + h.status().name().toLowerCase(Locale.ROOT) + "; " + concurrent);
    }

    // ---- disruptive ----

    private static Tool.Result modprobe(Lab lab, boolean remove, String... modules) {
        List<String> command = new ArrayList<>(lab.monitor().modprobe());
        if (remove) {
            command.add("-r");
        }
        command.addAll(List.of(modules));
        Tool.Result r = Tool.run(command, null, Duration.ofSeconds(60));
        lab.output("$ " + String.join(" ", command.subList(Math.max(0, command.size() - modules.length - (remove ? 2 : 1)), command.size()))
                + " (exit " + r.exitCode() + ")", r.startError() != null ? r.startError() : r.output());
        return r;
    }

    /** Polls axcl-smi until card 0 answers, for at most {@code wait}; the time it took, or -1. */
    private static long awaitCard(Lab lab, Duration wait, Duration every) throws InterruptedException {
        long start = System.nanoTime();
        long deadline = start + wait.toNanos();
        while (System.nanoTime() < deadline) {
            Tool.Result r = Tool.run(lab.monitor().axclSmi(), null, lab.monitor().probeTimeout());
            if (SmiParser.table(r.output(), 0).status() == DeviceHealth.Status.ANSWERING) {
                return (System.nanoTime() - start) / 1_000_000;
            }
            Thread.sleep(every.toMillis());
        }
        return -1;
    }

    static Verdict lostCard(Lab lab) throws Exception {
        Tool.Result unload = modprobe(lab, true, "ax_pcie_p2p_rc", "axcl_host");
        if (!unload.ok()) {
            return Verdict.skipped("the driver could not be unloaded (" + Tool.oneLine(unload.output(), 120)
                    + "): a process still holds the card (axcl-smi's process list names it)");
        }
        Tool.Result r;
        long back;
        try {
            r = lab.smi();
        } finally {
            modprobe(lab, false, "axcl_host");
            modprobe(lab, false, "ax_pcie_p2p_rc");
            back = awaitCard(lab, lab.monitor().reloadWait(), Duration.ofMillis(lab.emulated() ? 200 : 1000));
        }
        lab.note(back < 0 ? "the card did not come back within " + lab.monitor().reloadWait() : "the card answered again " + back + " ms after the reload");
        DeviceHealth h = SmiParser.table(r.output(), 0);
        Matcher m = INIT_FAIL.matcher(r.output());
        String backText = back < 0 ? "; the card did NOT come back within monitor.reload_wait " + lab.monitor().reloadWait()
                : "; back " + back + " ms after the modules were loaded again";
        if (!m.find()) {
            return Verdict.differs("no `axcl init fail, ret = 0x…` line with the driver unloaded (exit " + r.exitCode() + (r.timedOut() ? ", timed out" : "")
                    + "); the monitor read " + h.status().name().toLowerCase(Locale.ROOT) + backText);
        }
        if (!m.group(1).equalsIgnoreCase("0x8030010b")) {
            return Verdict.differs("`axcl init fail, ret = " + m.group(1) + "`, not 0x8030010b; the monitor read "
                    + h.status().name().toLowerCase(Locale.ROOT) + backText);
        }
        if (back < 0 || h.status() != DeviceHealth.Status.NOT_FOUND) {
            return Verdict.differs("`axcl init fail, ret = 0x8030010b`, read as " + h.status().name().toLowerCase(Locale.ROOT) + backText);
        }
        return Verdict.verified("`axcl init fail, ret = 0x8030010b` and " + (r.output().contains("| Card") ? "the empty table" : "no table")
                + ", exit " + r.exitCode() + ", read as not found" + backText);
    }

    static Verdict reboot(Lab lab) throws Exception {
        AxllmServeRuntime runtime = null;
        try {
            runtime = lab.freshChat(java.util.Map.of(), "", false);
            runtime.start(lab.loadTimeout());
            lab.note("a runtime was started before the reboot (pid " + runtime.pids() + ")");
        } catch (Verdict.Skip | dev.axfleet.worker.runtime.RuntimeStartException e) {
            lab.note("no runtime before the reboot: " + e.getMessage());
            runtime = null;
        }
        List<String> command = new ArrayList<>(lab.monitor().axclSmi());
        command.addAll(List.of("reboot", "-d", "0"));
        long t0 = System.nanoTime();
        Tool.Result r = Tool.run(command, "y\n", Duration.ofSeconds(90));
        long took = (System.nanoTime() - t0) / 1_000_000;
        lab.output("$ echo y | axcl-smi reboot -d 0 (exit " + r.exitCode() + ", " + took + " ms)", r.output());
        Matcher index = Pattern.compile("reboot device (\\d+) success").matcher(r.output());
        String says = index.find() ? "`reboot device " + index.group(1) + " success` (" + (index.group(1).equals("0") ? "the index" : "the device id")
                + ")" : "no `reboot device N success` line";
        Duration every = Duration.ofMillis(lab.emulated() ? 100 : 1000);
        long start = System.nanoTime();
        long gone = -1;
        long back = -1;
        long deadline = start + lab.monitor().rebootWait().toNanos();
        while (System.nanoTime() < deadline) {
            Tool.Result t = Tool.run(lab.monitor().axclSmi(), null, lab.monitor().probeTimeout());
            boolean answering = SmiParser.table(t.output(), 0).status() == DeviceHealth.Status.ANSWERING;
            long at = (System.nanoTime() - start) / 1_000_000;
            if (!answering && gone < 0) {
                gone = at;
            } else if (answering && gone >= 0) {
                back = at;
                break;
            }
            Thread.sleep(every.toMillis());
        }
        // A runtime that loaded before the reset has lost its models: it dies or fails (the driver says "device N is dead").
        long fateDeadline = System.nanoTime() + Duration.ofSeconds(lab.emulated() ? 5 : 30).toNanos();
        while (runtime != null && back >= 0 && !runtime.pids().isEmpty() && System.nanoTime() < fateDeadline) {
            Thread.sleep(100);
        }
        String runtimeFate = runtime == null ? "" : runtime.pids().isEmpty() ? "; the runtime started before it died (its log: "
                + Tool.oneLine(lastLines(runtime.recentOutput(), 2), 120) + ")" : "; the runtime started before it is STILL RUNNING";
        String figures = "the command took " + took + " ms, " + says + "; " + (gone < 0 ? "the card never stopped answering"
                : "gone " + gone + " ms after it") + (back < 0 ? "" : ", back after " + back + " ms (set monitor.reboot_wait above that)") + runtimeFate;
        if (!r.ok() || gone < 0 || back < 0 || (runtime != null && !runtime.pids().isEmpty())) {
            if (back < 0) {
                long late = awaitCard(lab, lab.monitor().rebootWait(), every);
                lab.note(late < 0 ? "still not back after another " + lab.monitor().rebootWait() : "back " + late + " ms later still");
            }
            return Verdict.differs((back < 0 && gone >= 0 ? "the card did not come back within monitor.reboot_wait " + lab.monitor().rebootWait() + "; "
                    : gone < 0 ? "the card did not go away at once (the ladder counts the first answer after the command as back); " : "")
                    + figures);
        }
        return Verdict.verified(figures);
    }

    private static String lastLines(String text, int n) {
        List<String> lines = text.lines().toList();
        return String.join(" / ", lines.subList(Math.max(0, lines.size() - n), lines.size()));
    }

    // ---- the card to itself ----

    static Verdict units(Lab lab) throws Verdict.Skip {
        String library = lab.target().library();
        DeviceHealth smi = lab.smiProbe().probe(0);
        DeviceHealth jna;
        try (AxclProbe probe = new AxclProbe(library, lab.monitor().probeTimeout())) {
            jna = probe.probe(0);
        }
        lab.note("axcl-smi: " + describe(smi));
        lab.note("libaxcl_rt (JNA): " + describe(jna));
        if (jna.status() != DeviceHealth.Status.ANSWERING || smi.status() != DeviceHealth.Status.ANSWERING) {
            return Verdict.differs("not both answered: axcl-smi " + describe(smi) + "; libaxcl_rt " + describe(jna));
        }
        CardReadings a = smi.readings();
        CardReadings b = jna.readings();
        List<String> off = new ArrayList<>();
        if (a.temperatureC() == null || b.temperatureC() == null || Math.abs(a.temperatureC() - b.temperatureC()) > 3) {
            off.add("temperature " + b.temperatureC() + " °C against axcl-smi's " + a.temperatureC());
        }
        if (apart(a.cpuPercent(), b.cpuPercent(), 10) || apart(a.npuPercent(), b.npuPercent(), 10)) {
            off.add("loads CPU " + b.cpuPercent() + " % / NPU " + b.npuPercent() + " % against axcl-smi's " + a.cpuPercent() + " / " + a.npuPercent()
                    + " (AxclProbe divides the raw field by 100)");
        }
        if (apart(a.cmmUsedMiB(), b.cmmUsedMiB(), 64) || apart(a.cmmTotalMiB(), b.cmmTotalMiB(), 2)) {
            off.add("CMM " + b.cmmUsedMiB() + "/" + b.cmmTotalMiB() + " MiB against axcl-smi's " + a.cmmUsedMiB() + "/" + a.cmmTotalMiB()
                    + " (the fields are taken as KB)");
        }
        if (!jna.warnings().isEmpty()) {
            off.add(String.join("; ", jna.warnings()));
        }
        return off.isEmpty() ? Verdict.verified("libaxcl_rt and axcl-smi agree: " + describe(jna))
                : Verdict.differs(String.join("; ", off));
    }

    private static boolean apart(Number a, Number b, double by) {
        return a == null || b == null || Math.abs(a.doubleValue() - b.doubleValue()) > by;
    }

    private static String describe(DeviceHealth h) {
        if (h.status() != DeviceHealth.Status.ANSWERING) {
            return h.status().name().toLowerCase(Locale.ROOT) + " (" + h.detail() + ")";
        }
        CardReadings c = h.readings();
        return c.temperatureC() + " °C, CPU " + c.cpuPercent() + " %, NPU " + c.npuPercent() + " %, CMM " + c.cmmUsedMiB() + "/" + c.cmmTotalMiB() + " MiB";
    }

    static Verdict axclCalls(Lab lab) throws Exception {
        String library = lab.target().library();
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Djna.library.path=/usr/lib/axcl", "-cp", System.getProperty("java.class.path"), AxclCalls.class.getName(), library));
        Tool.Result r = Tool.run(command, null, Duration.ofSeconds(45));
        lab.output("U23's calls in a process of their own (exit " + r.exitCode() + ")", r.output());
        String init = AxclCalls.value(r.output(), "init");
        String again = AxclCalls.value(r.output(), "init again");
        String before = AxclCalls.value(r.output(), "props before SetDevice");
        String after = AxclCalls.value(r.output(), "props after SetDevice");
        if (init == null || !init.equals("0x0")) {
            return Verdict.differs("axclInit did not succeed: " + (init == null ? Tool.oneLine(r.output(), 160) : init));
        }
        List<String> differ = new ArrayList<>();
        differ.add("0x0".equals(again) ? "a second axclInit returned 0x0: harmless on this build (A1 assumes it fails; AxclProcess calls it once "
                + "anyway)" : null);
        differ.add("0x0".equals(before) ? "axclrtGetDeviceProperties worked before axclrtSetDevice (A2 assumes 0x80300183)" : null);
        differ.removeIf(java.util.Objects::isNull);
        String seen = "init " + init + ", init again " + again + ", properties before SetDevice " + before + ", after " + after;
        return differ.isEmpty() ? Verdict.verified(seen) : Verdict.differs(String.join("; ", differ) + " (" + seen + ")");
    }

    static Verdict twoUsers(Lab lab) throws Exception {
        lab.releaseAll();
        String before = lab.target().meminfo();
        int logBefore = lab.target().kernelLog().split("\n", -1).length;
        lab.output("CMA with nothing of doctor's on the card", before);
        lab.image();
        lab.chat(false);
        String after = lab.target().meminfo();
        lab.output("CMA with SD1.5-LCM in this JVM and axllm serve both loaded", after);
        String[] log = lab.target().kernelLog().split("\n", -1);
        List<String> errors = new ArrayList<>();
        for (int i = Math.min(logBefore, log.length) - 1; i < log.length; i++) {
            if (i >= 0 && log[i].toLowerCase(Locale.ROOT).matches(".*(cma|sglist|dma).*(fail|error|exhaust).*")) {
                errors.add(log[i].strip());
            }
        }
        Long free0 = kb(before, "CmaFree");
        Long free1 = kb(after, "CmaFree");
        if (!errors.isEmpty()) {
            return Verdict.differs("the kernel log has CMA errors while both load: " + String.join(" / ", errors));
        }
        if (free1 == null) {
            return Verdict.observed("no CmaFree in /proc/meminfo; no CMA errors in the kernel log while both loaded");
        }
        String figures = "CmaFree " + free0 + " kB before, " + free1 + " kB with both users (" + (free0 == null ? "?" : (free0 - free1) / 1024)
                + " MiB for the two)";
        return free1 <= 0 ? Verdict.differs("host CMA exhausted: " + figures) : Verdict.verified(figures + ", no CMA errors in the kernel log");
    }

    private static Long kb(String meminfo, String key) {
        Matcher m = Pattern.compile("(?m)^" + key + ":\\s*(\\d+) kB").matcher(meminfo);
        return m.find() ? Long.valueOf(m.group(1)) : null;
    }

    /**
     * U23's calls (docs/hardware.md), in a process of their own so this JVM's one {@code axclInit} (AxclProcess) is not
     * spent: {@code java ... AxclCalls LIBRARY} prints one {@code name value} line per call.
     */
    public static final class AxclCalls {
        interface Rt extends Library {
            int axclInit(String config);

            int axclFinalize();

            int axclrtGetDeviceList(DeviceList list);

            int axclrtGetDeviceProperties(int deviceId, DeviceProperties p);

            int axclrtSetDevice(int deviceId);

            int axclrtResetDevice(int deviceId);

            int axclrtCreateContext(com.sun.jna.ptr.PointerByReference context, int deviceId);

            int axclrtDestroyContext(com.sun.jna.Pointer context);
        }

        private AxclCalls() {
        }

        public static void main(String[] args) {
            Rt rt = Native.load(args[0], Rt.class);
            DeviceList l = new DeviceList();
            DeviceProperties p = new DeviceProperties();
            print("init", rt.axclInit(null));
            print("init again", rt.axclInit(null));
            print("list", rt.axclrtGetDeviceList(l));
            System.out.println("num " + l.num);
            System.out.flush();
            if (l.num > 0) {
                print("props before SetDevice", rt.axclrtGetDeviceProperties(l.devices[0], p));
                print("SetDevice", rt.axclrtSetDevice(l.devices[0]));
                int after = rt.axclrtGetDeviceProperties(l.devices[0], p);
                print("props after SetDevice", after);
                System.out.println("raw cpuLoading " + Integer.toUnsignedString(p.cpuLoading) + " npuLoading " + Integer.toUnsignedString(p.npuLoading)
                        + " temperature " + p.temperature + " freeCmmSize " + Integer.toUnsignedString(p.freeCmmSize));
                com.sun.jna.ptr.PointerByReference c = new com.sun.jna.ptr.PointerByReference();
                print("CreateContext", rt.axclrtCreateContext(c, l.devices[0]));
                rt.axclrtDestroyContext(c.getValue());
                rt.axclrtResetDevice(l.devices[0]);
            }
            print("finalize", rt.axclFinalize());
        }

        private static void print(String what, int ret) {
            System.out.println(what + " 0x" + Integer.toHexString(ret));
            System.out.flush();
        }

        /** The value printed for {@code what}, or null. */
        static String value(String output, String what) {
            for (String line : output.split("\n")) {
                if (line.startsWith(what + " 0x")) {
                    return line.substring(what.length() + 1).strip();
                }
            }
            return null;
        }
    }
}
