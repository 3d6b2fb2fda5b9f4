package dev.axfleet.emulator.card;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Stands in for {@code axcl-smi} (M5Stack docs {@code axcl_smi}; ../shared/axera.md §3): the default table,
 * {@code info --cmm}, {@code info --temp}, {@code reboot} with its y/n prompt, and {@code -d N}. A lost card
 * prints the documented init failure and an empty table; a hung card makes it hang, as the real tool does.
 */
public final class SmiTool {
    static final String VERSION = "V3.6.4_20250805020145";

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
        EmulatedCard.Snapshot s = card.snapshot();
        if (words.equals(List.of("reboot"))) {
            return reboot(card, s, device, stdin, out);
        }
        if (s.hung()) {
            Thread.sleep(Long.MAX_VALUE);
        }
        if (!s.visible() || device != 0) {
            out.println("open /dev/axcl_host fail, errno: 2");
            out.println("axcl init fail, ret = 0x8030010b");
            if (words.isEmpty()) {
                header(out);
                processesHeader(out);
            }
            return 1;
        }
        if (words.isEmpty()) {
            table(s, out);
            return 0;
        }
        if (words.equals(List.of("info", "--cmm"))) {
            out.println("Device ID           : 1 (0x1)");
            out.printf("CMM Total           : %8d KiB%n", EmulatedCard.CMM_TOTAL_KIB);
            out.printf("CMM Used            : %8d KiB%n", s.cmmUsedKiB());
            // The lower-case "kiB" is the manufacturer's own spelling.
            out.printf("CMM Remain          : %8d kiB%n", s.cmmFreeKiB());
            return 0;
        }
        if (words.equals(List.of("info", "--temp"))) {
            // Unverified line shape (community note); the parser takes the last integer.
            out.println("temperature: " + s.tempMilliC());
            return 0;
        }
        out.println("axcl-smi (axfleet emulator): unsupported arguments " + words);
        return 2;
    }

    private static int reboot(EmulatedCard card, EmulatedCard.Snapshot s, int device, InputStream stdin, PrintStream out) throws Exception {
        out.print("Do you want to reboot device " + device + " ? (y/n):");
        out.flush();
        String answer = new BufferedReader(new InputStreamReader(stdin, StandardCharsets.UTF_8)).readLine();
        if (answer == null || !answer.trim().equalsIgnoreCase("y")) {
            out.println();
            return 1;
        }
        out.println();
        if (device != 0 || s.resetting()) {
            out.println("axcl init fail, ret = 0x8030010b");
            return 1;
        }
        card.reboot();
        return 0;
    }

    private static void header(PrintStream out) {
        out.printf("| AXCL-SMI  %-52s Driver  %-22s |%n", VERSION, VERSION);
        out.println("| Card  Name                     Firmware | Bus-Id       |                          Memory-Usage |");
        out.println("| Fan   Temp                Pwr:Usage/Cap | CPU      NPU |                             CMM-Usage |");
    }

    private static void processesHeader(PrintStream out) {
        out.println("| Processes:                                                                                     |");
        out.println("| Card      PID  Process Name                                                   NPU Memory Usage |");
    }

    /** The default table, laid out as in the manufacturer's documentation. */
    static void table(EmulatedCard.Snapshot s, PrintStream out) {
        header(out);
        out.printf("|    0  %-25s%8s | 0001:01:00.0 | %18d MiB / %8d MiB |%n", "AX650N", "V3.6.4",
                s.memUsedKiB() / 1024, EmulatedCard.MEM_TOTAL_KIB / 1024);
        out.printf("|   -- %4dC                      -- / -- | %-10s%2s | %18d MiB / %8d MiB |%n", Math.round(s.tempMilliC() / 1000.0),
                s.cpu() + "%", s.npu() + "%", s.cmmUsedKiB() / 1024, EmulatedCard.CMM_TOTAL_KIB / 1024);
        processesHeader(out);
        for (EmulatedCard.User u : s.users()) {
            out.printf("| %4d %8d  %-56s %12d KiB |%n", 0, u.pid(), u.name(), u.cmmKiB());
        }
    }
}
