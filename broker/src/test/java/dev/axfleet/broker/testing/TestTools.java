package dev.axfleet.broker.testing;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Assumptions;

/**
 * Outside tools some suites drive (Mosquitto, node, paho, shellcheck, systemd-analyze, cc): a test without its
 * tool is skipped with one line on the build's console naming the tool and how to install it, unless
 * {@code AXFLEET_REQUIRE_TOOLS=1} (CI sets it), where a missing tool fails the suite.
 */
public final class TestTools {
    /**
     * The forked test JVM's own standard error: Surefire sends what tests print through {@code System.out/err} to
     * report files, but copies the process's native stderr to the build's console, where a newcomer reads it.
     */
    static PrintStream console = new PrintStream(new FileOutputStream(FileDescriptor.err), true, StandardCharsets.UTF_8);
    /** The system property that overrides {@code AXFLEET_REQUIRE_TOOLS} (the skip path's own test sets it). */
    static final String REQUIRE_PROPERTY = "axfleet.require_tools";
    private static final Set<String> told = ConcurrentHashMap.newKeySet();

    private TestTools() {
    }

    /**
     * Skips the calling test when {@code tool} is absent (or fails it, when tools are required).
     *
     * @param install the command that installs it, e.g. {@code apt-get install mosquitto}
     */
    public static void require(String tool, String install, boolean present) {
        if (present) {
            return;
        }
        String why = tool + " is not installed (" + install + ")";
        if (required()) {
            throw new IllegalStateException("AXFLEET_REQUIRE_TOOLS=1 but " + why);
        }
        String suite = caller();
        if (told.add(suite + "\n" + tool)) {
            console.println("[SKIPPED] " + suite + ": needs " + tool + " - install it with: " + install);
        }
        Assumptions.abort(why);
    }

    /**
     * Skips the calling test when this machine does not permit what it needs ({@code what}, e.g. making network
     * namespaces) — even under {@code AXFLEET_REQUIRE_TOOLS=1}: a permission is the machine's, not a package CI can install.
     */
    public static void permits(String what, String how, boolean permitted) {
        if (permitted) {
            return;
        }
        String suite = caller();
        if (told.add(suite + "\n" + what)) {
            console.println("[SKIPPED] " + suite + ": this machine does not permit " + what + " - " + how);
        }
        Assumptions.abort("not permitted here: " + what);
    }

    static boolean required() {
        String property = System.getProperty(REQUIRE_PROPERTY);
        return "1".equals(property != null ? property : System.getenv("AXFLEET_REQUIRE_TOOLS"));
    }

    /** The test class that asked (not a helper of this package, such as {@link TestBroker}), named as the build names it. */
    private static String caller() {
        return StackWalker.getInstance(StackWalker.Option.RETAIN_CLASS_REFERENCE).walk(frames -> frames
                .map(StackWalker.StackFrame::getDeclaringClass)
                .filter(c -> !c.getPackageName().equals(TestTools.class.getPackageName()) || c.getNestHost().getSimpleName().endsWith("Test"))
                .map(c -> c.getNestHost().getSimpleName())
                .findFirst().orElse("a test"));
    }
}
