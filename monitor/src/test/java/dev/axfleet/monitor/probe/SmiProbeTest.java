package dev.axfleet.monitor.probe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.axfleet.emulator.card.EmulatedCard;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The axcl-smi probe against the emulated tool, which prints the binary's format strings (axcl-runtime@6696a5f
 * bin/axcl-smi) in the guide's layout (axcl-docs doc_guide_axcl_smi.md:25-41), and its failure lines.
 */
class SmiProbeTest {
    @TempDir
    Path dir;

    private EmulatedCard card() {
        return EmulatedCard.create(dir.resolve("card"));
    }

    private static SmiProbe probe(EmulatedCard card) {
        return new SmiProbe(List.of(card.axclSmi().toString()), Duration.ofSeconds(20));
    }

    /** Every rule and title line as the guide prints it; every data row with the guide's column borders. */
    @Test
    void theEmulatedTableHasTheGuidesLayout() {
        EmulatedCard card = card();
        card.register(ProcessHandle.current().pid(), "/opt/bin/axcl/axcl_run_model", 160);
        Tool.Result r = Tool.run(List.of(card.axclSmi().toString()), null, Duration.ofSeconds(20));
        List<String> emulated = r.output().lines().toList();
        List<String> guide = SmiParserTest.fixture("table-documented.txt").lines().toList();
        assertEquals(guide.size(), emulated.size(), r.output());
        for (int i = 0; i < guide.size(); i++) {
            String g = guide.get(i);
            String e = emulated.get(i);
            if (g.startsWith("+") || g.startsWith("| Card") || g.startsWith("| Fan") || g.startsWith("|=") || g.startsWith("| Processes")
                    || g.isEmpty()) {
                assertEquals(g, e, "line " + (i + 1));
            } else {
                assertEquals(g.length(), e.length(), "line " + (i + 1) + ":\n" + g + "\n" + e);
                for (int c = 0; c < g.length(); c++) {
                    assertEquals(g.charAt(c) == '|', e.charAt(c) == '|', "column " + c + " of line " + (i + 1) + ":\n" + g + "\n" + e);
                }
            }
        }
        DeviceHealth h = probe(card).probe(0);
        assertEquals(DeviceHealth.Status.ANSWERING, h.status(), String.valueOf(h));
        assertEquals(41.0, h.readings().temperatureC());
        assertEquals(1, h.readings().processes().size());
    }

    /** {@code %s is already running, please try later.} is another axcl-smi (a person's watch), retried shortly. */
    @Test
    void anotherAxclSmiRunningIsRetriedNotUnknown() {
        EmulatedCard card = card();
        card.smiBusy(2);
        DeviceHealth h = probe(card).probe(0);
        assertEquals(DeviceHealth.Status.ANSWERING, h.status(), String.valueOf(h));
        card.smiBusy(SmiProbe.BUSY_TRIES);
        DeviceHealth busy = probe(card).probe(0);
        assertEquals(DeviceHealth.Status.UNREADABLE, busy.status());
        assertTrue(busy.detail().contains("another axcl-smi is running"), busy.detail());
    }

    @Test
    void aCardBeyondTheListAndACardThatCannotBeActivatedAreNotFound() {
        EmulatedCard card = card();
        assertEquals(DeviceHealth.Status.NOT_FOUND, probe(card).probe(1).status(), "the table has no row for card 1");
        Tool.Result r = Tool.run(List.of(card.axclSmi().toString(), "info", "--temp", "-d", "1"), null, Duration.ofSeconds(20));
        DeviceHealth beyond = SmiParser.table(r.output(), 1);
        assertEquals(DeviceHealth.Status.NOT_FOUND, beyond.status());
        assertTrue(beyond.detail().contains("device index 1 is out of connected devices number 1"), beyond.detail());
        card.failActivation(true);
        DeviceHealth inactive = probe(card).probe(0);
        assertEquals(DeviceHealth.Status.NOT_FOUND, inactive.status());
        assertTrue(inactive.detail().contains("active device 1 fail"), inactive.detail());
        card.failActivation(false);
        assertEquals(DeviceHealth.Status.ANSWERING, probe(card).probe(0).status());
    }
}
