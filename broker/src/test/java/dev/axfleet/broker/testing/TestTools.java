package dev.axfleet.broker.testing;

import org.junit.jupiter.api.Assumptions;

/**
 * Outside tools some suites drive (Mosquitto, node, paho, shellcheck, systemd-analyze): a test without its
 * tool is skipped, unless {@code AXFLEET_REQUIRE_TOOLS=1} (CI sets it), where a missing tool fails the suite.
 */
public final class TestTools {
    private TestTools() {
    }

    public static void require(String what, boolean present) {
        if (!present) {
            if ("1".equals(System.getenv("AXFLEET_REQUIRE_TOOLS"))) {
                throw new IllegalStateException("AXFLEET_REQUIRE_TOOLS=1 but " + what + " is missing");
            }
            Assumptions.abort(what + " is not installed");
        }
    }
}
