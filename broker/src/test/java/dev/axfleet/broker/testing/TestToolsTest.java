package dev.axfleet.broker.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.platform.testkit.engine.EngineTestKit;
import org.junit.platform.testkit.engine.Event;
import org.junit.platform.testkit.engine.Events;

/**
 * The skip path itself, run through the JUnit engine as the build runs it: a suite whose tool is missing is
 * skipped with one console line naming the tool and how to install it; with tools required (CI) it fails instead.
 */
class TestToolsTest {
    private final ByteArrayOutputStream printed = new ByteArrayOutputStream();
    private PrintStream console;
    private String required;

    /** A suite needing a tool that no machine has; run only through the engine below (Surefire skips nested classes). */
    static class NeedsAnAbsentTool {
        @Test
        void first() {
            TestTools.require("frobnicator", "apt-get install frobnicator", false);
        }

        @Test
        void second() {
            TestTools.require("frobnicator", "apt-get install frobnicator", false);
        }

        @Test
        void presentToolRuns() {
            TestTools.require("sh", "apt-get install dash", true);
        }
    }

    @BeforeEach
    void captureConsole() {
        console = TestTools.console;
        TestTools.console = new PrintStream(printed, true, StandardCharsets.UTF_8);
        required = System.getProperty(TestTools.REQUIRE_PROPERTY);
    }

    @AfterEach
    void restore() {
        TestTools.console = console;
        if (required == null) {
            System.clearProperty(TestTools.REQUIRE_PROPERTY);
        } else {
            System.setProperty(TestTools.REQUIRE_PROPERTY, required);
        }
    }

    private static Events run() {
        return EngineTestKit.engine("junit-jupiter").selectors(selectClass(NeedsAnAbsentTool.class)).execute().testEvents();
    }

    @Test
    void aMissingToolSkipsTheSuiteWithOneLineSayingHowToInstallIt() {
        System.setProperty(TestTools.REQUIRE_PROPERTY, "0");
        Events events = run();
        events.assertStatistics(s -> s.started(3).aborted(2).succeeded(1).failed(0));
        Event skipped = events.aborted().list().get(0);
        String reason = skipped.getPayload(org.junit.platform.engine.TestExecutionResult.class).orElseThrow()
                .getThrowable().orElseThrow().getMessage();
        assertEquals("frobnicator is not installed (apt-get install frobnicator)", reason);
        String out = printed.toString(StandardCharsets.UTF_8);
        assertEquals(1, out.lines().count(), "one line per suite and tool, not one per test: " + out);
        assertTrue(out.startsWith("[SKIPPED] TestToolsTest: needs frobnicator - install it with: apt-get install frobnicator"), out);
    }

    @Test
    void withToolsRequiredAMissingToolFailsTheSuite() {
        System.setProperty(TestTools.REQUIRE_PROPERTY, "1");
        Events events = run();
        events.assertStatistics(s -> s.started(3).aborted(0).failed(2).succeeded(1));
        String message = events.failed().list().get(0).getPayload(org.junit.platform.engine.TestExecutionResult.class).orElseThrow()
                .getThrowable().orElseThrow().getMessage();
        assertEquals("AXFLEET_REQUIRE_TOOLS=1 but frobnicator is not installed (apt-get install frobnicator)", message);
        assertEquals("", printed.toString(StandardCharsets.UTF_8), "a required tool is not reported as skipped");
    }
}
