package dev.axfleet.emulator.card;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Stands in for {@code modprobe} on the card's driver modules (AXERA-TECH/axcl-runtime:build/package/deb/
 * prerm, postinst): {@code -r} unloads them and fails while a process uses the card; loading
 * {@code axcl_host} again resets the card.
 */
public final class ModprobeTool {
    private ModprobeTool() {
    }

    public static int run(List<String> args, PrintStream out) {
        Path dir = null;
        boolean remove = false;
        List<String> modules = new ArrayList<>();
        for (int i = 0; i < args.size(); i++) {
            switch (args.get(i)) {
                case "--card-dir" -> dir = Path.of(args.get(++i));
                case "-r" -> remove = true;
                default -> modules.add(args.get(i));
            }
        }
        if (dir == null || modules.isEmpty()) {
            out.println("modprobe (axfleet emulator): usage: --card-dir DIR [-r] module...");
            return 2;
        }
        EmulatedCard card = EmulatedCard.open(dir);
        if (remove) {
            String refusal = card.unloadDriver();
            if (refusal != null) {
                out.println(refusal);
                return 1;
            }
            return 0;
        }
        if (modules.contains("axcl_host")) {
            card.loadDriver();
        }
        return 0;
    }
}
