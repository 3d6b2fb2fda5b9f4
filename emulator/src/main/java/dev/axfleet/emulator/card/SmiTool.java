package dev.axfleet.emulator.card;

import dev.axfleet.emulator.TestFault;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Stands in for {@code axcl-smi}: the default table, {@code info --cmm}, {@code info --temp}, {@code reboot} with its y/n
 * prompt, and {@code -d N}, printed with the binary's own format strings (AXERA-TECH/axcl-runtime@6696a5f
 * out/axcl_linux_arm64/bin/axcl-smi, V3.10.2) in the layout axcl-docs@df7ef4c doc_guide_axcl_smi.md:25-41 shows. Its
 * failures are the binary's too: {@code axcl init fail, ret = 0x%x} for a lost card (with the documented empty table),
 * {@code device index %d is out of connected devices number %d} for a card index beyond the list,
 * {@code active device %d fail, ret = 0x%x} for a card that cannot be activated and {@code %s is already running, please
 * try later.} while another axcl-smi runs. A hung card makes it hang, as the real tool does.
 */
public final class SmiTool {
    static final String VERSION = "V3.6.4_20250805020145";
    /** Cards this emulated host has: one, index 0 (device id 1). */
    static final int CARDS = 1;
    static final String RULE = "+" + "-".repeat(96) + "+";
    static final String TABLE_RULE = "+-----------------------------------------+--------------+---------------------------------------+";
    static final String TABLE_HEAVY = "|=========================================+==============+=======================================|";
    static final String HEAVY = "|" + "=".repeat(96) + "|";

    private SmiTool() {
    }

    public static int run(List<String> args, InputStream stdin, PrintStream out) throws Exception {
        Path dir = null;
        int device = 0;
        List<String> words = new ArrayList<>();
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            switch (a) {
                case "--card-dir" -> dir = Path.of(args.get(++i));
                case "-d", "--device" -> device = Integer.parseInt(args.get(++i));
                default -> words.add(a);
            }
        }
        if (dir == null) {
            out.println("axcl-smi (axfleet emulator): --card-dir is required");
            return 2;
        }
        EmulatedCard card = EmulatedCard.open(dir);
        if (words.equals(List.of("-v"))) {
            out.println("AXCL-SMI " + VERSION + " BUILD: Aug  5 2025 02:30:24 (axfleet emulator)");
            return 0;
        }
        if (card.takeSmiBusy()) {
            out.println("axcl-smi is already running, please try later.");
            return 1;
        }
        EmulatedCard.Snapshot s = card.snapshot();
        if (words.equals(List.of("reboot"))) {
            return reboot(card, s, device, stdin, out);
        }
        if (s.hung()) {
            Thread.sleep(Long.MAX_VALUE);
        }
        if (!s.visible()) {
            // The "open ... fail" line is the community's report of a card the driver lost (../shared/axera.md §3).
            out.println("open /dev/axcl_host fail, errno: 2");
            out.println("axcl init fail, ret = " + (card.testFault(TestFault.LOST_CARD_OTHER_CODE) ? "0x80300181" : "0x8030010b"));
            if (words.isEmpty()) {
                header(out);
                out.println(TABLE_RULE);
                out.println();
                processesHeader(out);
                out.println(RULE);
            }
            return 1;
        }
        if (device >= CARDS && !card.testFault(TestFault.INDEX_PRINTS_TABLE)) {
            out.printf("device index %d is out of connected devices number %d%n", device, CARDS);
            return 1;
        }
        if (card.activationFails()) {
            out.printf("active device %d fail, ret = 0x%x%n", 1, 0x80300181);
            return 1;
        }
        if (words.isEmpty()) {
            table(s, out, card.testFault(TestFault.TABLE_LAYOUT_CHANGED));
            return 0;
        }
        if (words.equals(List.of("info", "--cmm"))) {
            out.printf("%-20s: %d (0x%x)%n", "Device ID", 1, 1);
            out.printf("%-20s: %8d KiB%n", "CMM Total", EmulatedCard.CMM_TOTAL_KIB);
            out.printf("%-20s: %8d KiB%n", "CMM Used", s.cmmUsedKiB());
            // The lower-case "kiB" is the manufacturer's own spelling.
            out.printf("%-20s: %8d kiB%n", "CMM Remain", s.cmmFreeKiB());
            return 0;
        }
        if (words.equals(List.of("info", "--temp"))) {
            // The binary's "%-20s: %d" with its label "temperature"; °C × 1000 (doc_guide_axcl_smi.md info table), read
            // from /sys/class/thermal/thermal_zone0/temp on the card. Whether a Device ID line comes first is unverified.
            out.printf("%-20s: %d%n", "temperature", card.testFault(TestFault.TEMP_IN_CELSIUS) ? Math.round(s.tempMilliC() / 1000.0)
                    : s.tempMilliC());
            return 0;
        }
        out.println("axcl-smi (axfleet emulator): unsupported arguments " + words);
        return 2;
    }

    private static int reboot(EmulatedCard card, EmulatedCard.Snapshot s, int device, InputStream stdin, PrintStream out) throws Exception {
        out.print("Do you want to reboot device " + device + " ? (y/n): ");
        out.flush();
        String answer = new BufferedReader(new InputStreamReader(stdin, StandardCharsets.UTF_8)).readLine();
        if (answer == null || !answer.trim().equalsIgnoreCase("y")) {
            out.println();
            return 1;
        }
        out.println();
        // A lost card can be rebooted: an assumption (docs/hardware.md U16); one already rebooting cannot.
        if (s.resetting()) {
            out.println("axcl init fail, ret = 0x8030010b");
            return 1;
        }
        if (device >= CARDS) {
            out.printf("device index %d is out of connected devices number %d%n", device, CARDS);
            return 1;
        }
        card.reboot();
        out.printf("reboot device %d success%n", device);
        return 0;
    }

    /** {@code | %-32s                              %32s |} between rules, then the column titles. */
    private static void header(PrintStream out) {
        out.println(RULE);
        out.printf("| %-32s                              %32s |%n", "AXCL-SMI  " + VERSION, "Driver  " + VERSION);
        out.println(TABLE_RULE);
        out.println("| Card  Name                     Firmware | Bus-Id       |                          Memory-Usage |");
        out.println("| Fan   Temp                Pwr:Usage/Cap | CPU      NPU |                             CMM-Usage |");
        out.println(TABLE_HEAVY);
    }

    private static void processesHeader(PrintStream out) {
        out.println(RULE);
        out.println("| Processes:                                                                                     |");
        out.println("| Card      PID  Process Name                                                   NPU Memory Usage |");
        out.println(HEAVY);
    }

    /** The default table, with the binary's row formats. */
    static void table(EmulatedCard.Snapshot s, PrintStream out, boolean changedLayout) {
        header(out);
        out.printf("| %4d  %-16s %16s | %12s |           %8d MiB / %8d MiB |%n", 0, "AX650N", "V3.6.4", "0001:01:00.0",
                s.memUsedKiB() / 1024, EmulatedCard.MEM_TOTAL_KIB / 1024);
        if (changedLayout) {
            // Test fault TABLE_LAYOUT_CHANGED: a layout no source shows, for the doctor's F20 check to find.
            out.printf("| %4s  %5s %27s | %-6s%6s |           %8d MiB / %8d MiB |%n", "--", Math.round(s.tempMilliC() / 1000.0) + " C",
                    "-- / --", s.cpu(), s.npu(), s.cmmUsedKiB() / 1024, EmulatedCard.CMM_TOTAL_KIB / 1024);
        } else {
            out.printf("| %4s  %4s %28s | %-6s%6s |           %8d MiB / %8d MiB |%n", "--", Math.round(s.tempMilliC() / 1000.0) + "C", "-- / --",
                    s.cpu() + "%", s.npu() + "%", s.cmmUsedKiB() / 1024, EmulatedCard.CMM_TOTAL_KIB / 1024);
        }
        out.println(TABLE_RULE);
        out.println();
        processesHeader(out);
        for (EmulatedCard.User u : s.users()) {
            out.printf("| %4d %8d  %-66s %8d KiB |%n", 0, u.pid(), u.name(), u.cmmKiB());
        }
        out.println(RULE);
    }
}
