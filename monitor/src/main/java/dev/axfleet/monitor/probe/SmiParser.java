package dev.axfleet.monitor.probe;

import dev.axfleet.axcl.AxclError;
import dev.axfleet.broker.CardProcess;
import dev.axfleet.broker.CardReadings;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads {@code axcl-smi} output in the formats the manufacturer documents (axcl-docs@df7ef4c doc_guide_axcl_smi.md:25-41,
 * with {@code +---} rules and {@code |===} lines; M5Stack docs {@code axcl_smi}, quoted in ../shared/axera.md §3) and the
 * binary's format strings (axcl-runtime@6696a5f out/axcl_linux_arm64/bin/axcl-smi, V3.10.2): its rows
 * {@code | %4d  %-16s %16s | %12s |}, its failure lines, {@code %-20s: %d} info lines. Each field has its own pattern, so
 * a changed column loses that field (null, with a warning) and keeps the others. Never throws on any input.
 */
public final class SmiParser {
    /** {@code |    0  AX650N                     V3.6.4 | 0001:01:00.0 |                149 MiB /      945 MiB |} */
    private static final Pattern CARD_ROW = Pattern.compile(
            "^\\|\\s*(\\d{1,3})\\s+(\\S+)\\s+(\\S+)\\s*\\|\\s*([0-9a-fA-F]{4}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\\.[0-7])\\s*\\|\\s*(\\d{1,9}) MiB\\s*/\\s*(\\d{1,9}) MiB\\s*\\|\\s*$");
    /** {@code |   --   41C                      -- / -- | 1%        0% |                 18 MiB /     7040 MiB |} */
    private static final Pattern LOAD_ROW = Pattern.compile("^\\|\\s*\\S+\\s+(-?\\d{1,3})C\\s.*\\|\\s*(\\d{1,3})%\\s+(\\d{1,3})%\\s*\\|\\s*(\\d{1,9}) MiB\\s*/\\s*(\\d{1,9}) MiB\\s*\\|\\s*$");
    /** {@code |    0    84643  /home/axera/samples/qwen3-4b/main_axcl_aarch64      4894032 KiB |} */
    private static final Pattern PROCESS_ROW = Pattern.compile("^\\|\\s*(\\d{1,3})\\s+(\\d{1,10})\\s+(\\S.*?)\\s+(\\d{1,12}) KiB\\s*\\|\\s*$");
    private static final Pattern INIT_FAIL = Pattern.compile("axcl init fail, ret = (0x[0-9a-fA-F]{1,8})");
    /** The binary's {@code active device %d fail, ret = 0x%x}: listed, but {@code axclrtSetDevice} failed. */
    private static final Pattern ACTIVE_FAIL = Pattern.compile("active device (\\d{1,10}) fail, ret = (0x[0-9a-fA-F]{1,8})");
    /** The binary's {@code device index %d is out of connected devices number %d}. */
    private static final Pattern OUT_OF_RANGE = Pattern.compile("device index (-?\\d{1,10}) is out of connected devices number (\\d{1,10})");
    /** The binary's {@code %s is already running, please try later.}: another axcl-smi holds it (a person's {@code watch}). */
    private static final Pattern BUSY = Pattern.compile("(\\S{1,200}) is already running, please try later\\.");
    private static final Pattern DEVICE_ID = Pattern.compile("^Device ID\\s*:\\s*(\\d{1,3})");
    private static final Pattern CMM_LINE = Pattern.compile("^CMM (Total|Used|Remain)\\s*:\\s*(\\d{1,12})\\s*[kK]i?B\\s*$");
    private static final Pattern INTEGER = Pattern.compile("-?\\d{1,12}");
    /** The binary's {@code %-20s: %d} with its label {@code temperature}. */
    private static final Pattern TEMP_LINE = Pattern.compile("(?m)^temperature\\s*:\\s*(-?\\d{1,12})\\s*$");

    private SmiParser() {
    }

    /** The default table ({@code axcl-smi} with no arguments), for card {@code index}. */
    public static DeviceHealth table(String output, int index) {
        List<String> warnings = new ArrayList<>();
        String[] lines = output.split("\\R");
        String failure = failure(output);
        Integer cardRow = null;
        Long memUsed = null;
        Long memTotal = null;
        Double temp = null;
        Integer cpu = null;
        Integer npu = null;
        Long cmmUsed = null;
        Long cmmTotal = null;
        List<CardProcess> processes = new ArrayList<>();
        boolean inProcesses = false;
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].stripTrailing();
            if (line.startsWith("| Processes:")) {
                inProcesses = true;
                continue;
            }
            if (inProcesses) {
                Matcher p = PROCESS_ROW.matcher(line);
                if (p.matches() && Integer.parseInt(p.group(1)) == index) {
                    processes.add(new CardProcess(Long.parseLong(p.group(2)), p.group(3), Long.parseLong(p.group(4))));
                }
                continue;
            }
            Matcher c = CARD_ROW.matcher(line);
            if (c.matches() && Integer.parseInt(c.group(1)) == index) {
                cardRow = index;
                memUsed = Long.parseLong(c.group(5));
                memTotal = Long.parseLong(c.group(6));
                if (i + 1 < lines.length) {
                    Matcher l = LOAD_ROW.matcher(lines[i + 1].stripTrailing());
                    if (l.matches()) {
                        temp = Double.valueOf(l.group(1));
                        cpu = Integer.valueOf(l.group(2));
                        npu = Integer.valueOf(l.group(3));
                        cmmUsed = Long.parseLong(l.group(4));
                        cmmTotal = Long.parseLong(l.group(5));
                    } else {
                        warnings.add("axcl-smi: unrecognised temperature/load/CMM row: " + Tool.oneLine(lines[i + 1], 120));
                    }
                }
            }
        }
        if (cardRow == null) {
            if (failure != null) {
                return DeviceHealth.failed(DeviceHealth.Status.NOT_FOUND, failure, warnings);
            }
            if (output.contains("| Card") || output.contains("AXCL-SMI")) {
                // The header is there and the card is not: the documented "empty table" of a card the driver lost.
                return DeviceHealth.failed(DeviceHealth.Status.NOT_FOUND, "axcl-smi lists no card " + index, warnings);
            }
            warnings.add("axcl-smi: no card table in the output: " + Tool.oneLine(output, 120));
            return DeviceHealth.failed(DeviceHealth.Status.UNREADABLE, "axcl-smi output not recognised", warnings);
        }
        return new DeviceHealth(DeviceHealth.Status.ANSWERING,
                new CardReadings(null, temp, memUsed, memTotal, cmmUsed, cmmTotal, cpu, npu, processes), null, warnings);
    }

    /** {@code axcl-smi info --cmm -d N}: total and used CMM in MiB (KiB in the output) and the device id. */
    public static CmmInfo cmm(String output) {
        Integer deviceId = null;
        Long total = null;
        Long used = null;
        Long remain = null;
        for (String line : output.split("\\R")) {
            String s = line.strip();
            Matcher d = DEVICE_ID.matcher(s);
            if (d.find()) {
                deviceId = Integer.valueOf(d.group(1));
                continue;
            }
            Matcher m = CMM_LINE.matcher(s);
            if (m.matches()) {
                long kib = Long.parseLong(m.group(2));
                switch (m.group(1)) {
                    case "Total" -> total = kib;
                    case "Used" -> used = kib;
                    default -> remain = kib;
                }
            }
        }
        if (used == null && total != null && remain != null) {
            used = total - remain;
        }
        return new CmmInfo(deviceId, total == null ? null : total / 1024, used == null ? null : used / 1024);
    }

    /** What {@code info --cmm} says. Null fields were not in the output. */
    public record CmmInfo(Integer deviceId, Long totalMiB, Long usedMiB) {
    }

    /**
     * {@code axcl-smi info --temp -d N}: °C × 1000 (doc_guide_axcl_smi.md's info table), printed by the binary as
     * {@code %-20s: %d} labelled {@code temperature}; without that line the last integer is taken
     * ({@code temperature: 49263} → 49.263 °C). A value below 1000 is taken as °C.
     */
    public static OptionalLong tempMilliC(String output) {
        Matcher line = TEMP_LINE.matcher(output);
        String last = null;
        if (line.find()) {
            last = line.group(1);
        } else {
            Matcher m = INTEGER.matcher(output);
            while (m.find()) {
                last = m.group();
            }
        }
        if (last == null || failure(output) != null || busy(output)) {
            return OptionalLong.empty();
        }
        long v = Long.parseLong(last);
        long milli = Math.abs(v) < 1000 ? v * 1000 : v;
        return milli < -50_000 || milli > 200_000 ? OptionalLong.empty() : OptionalLong.of(milli);
    }

    /** The tool's own failure line in words, or null when it printed none. */
    static String failure(String output) {
        Matcher init = INIT_FAIL.matcher(output);
        if (init.find()) {
            return failureDetail(output, init.group(1));
        }
        Matcher range = OUT_OF_RANGE.matcher(output);
        if (range.find()) {
            return "axcl-smi: device index " + range.group(1) + " is out of connected devices number " + range.group(2) + " (card not found)";
        }
        Matcher active = ACTIVE_FAIL.matcher(output);
        if (active.find()) {
            int code = (int) Long.parseLong(active.group(2).substring(2), 16);
            return "axcl-smi: active device " + active.group(1) + " fail, ret = " + active.group(2) + " (the card is listed but cannot be "
                    + "activated: " + AxclError.describe(code) + ")";
        }
        return null;
    }

    /**
     * Whether axcl-smi refused to run because another axcl-smi is running ({@code %s is already running, please try
     * later.}): not a card failure; ask again shortly.
     */
    public static boolean busy(String output) {
        return BUSY.matcher(output).find();
    }

    private static String failureDetail(String output, String code) {
        String line = "axcl init fail, ret = " + code;
        return output.contains("open /dev/axcl_host fail") ? line + " (open /dev/axcl_host fail: driver not loaded or card not found)"
                : line + " (card not found)";
    }

}
