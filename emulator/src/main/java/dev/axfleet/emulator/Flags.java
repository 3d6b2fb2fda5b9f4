package dev.axfleet.emulator;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Command-line flags in the runtimes' style: {@code --name value} or {@code --name=value}. */
final class Flags {
    private Flags() {
    }

    static Map<String, String> parse(List<String> args) {
        Map<String, String> out = new HashMap<>();
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (!a.startsWith("--")) {
                throw new IllegalArgumentException("unexpected argument: " + a);
            }
            String name = a.substring(2);
            int eq = name.indexOf('=');
            if (eq >= 0) {
                out.put(name.substring(0, eq), name.substring(eq + 1));
            } else if (i + 1 < args.size() && !args.get(i + 1).startsWith("--")) {
                out.put(name, args.get(++i));
            } else {
                out.put(name, "1");
            }
        }
        return out;
    }
}
