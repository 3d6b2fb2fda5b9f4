package dev.axfleet.monitor.probe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.axfleet.broker.CardProcess;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.OptionalLong;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The manufacturer's documented outputs (../shared/axera.md §3), the documented error forms, and damaged output. */
class SmiParserTest {

    static String fixture(String name) {
        try (InputStream in = SmiParserTest.class.getResourceAsStream("/axcl-smi/" + name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void theDocumentedIdleTable() {
        DeviceHealth h = SmiParser.table(fixture("table-idle.txt"), 0);
        assertEquals(DeviceHealth.Status.ANSWERING, h.status());
        assertEquals(41.0, h.readings().temperatureC());
        assertEquals(149L, h.readings().memoryUsedMiB());
        assertEquals(945L, h.readings().memoryTotalMiB());
        assertEquals(18L, h.readings().cmmUsedMiB());
        assertEquals(7040L, h.readings().cmmTotalMiB());
        assertEquals(1, h.readings().cpuPercent());
        assertEquals(0, h.readings().npuPercent());
        assertEquals(List.of(), h.readings().processes());
        assertEquals(List.of(), h.warnings());
    }

    @Test
    void theDocumentedProcessRow() {
        DeviceHealth h = SmiParser.table(fixture("table-loaded.txt"), 0);
        assertEquals(List.of(new CardProcess(84643, "/home/axera/samples/qwen3-4b/main_axcl_aarch64", 4894032)), h.readings().processes());
    }

    @Test
    void anotherCardsRowsAreNotThisCards() {
        DeviceHealth h = SmiParser.table(fixture("table-loaded.txt"), 1);
        assertEquals(DeviceHealth.Status.NOT_FOUND, h.status());
    }

    @Test
    void cardNotFound() {
        DeviceHealth h = SmiParser.table(fixture("init-fail.txt"), 0);
        assertEquals(DeviceHealth.Status.NOT_FOUND, h.status());
        assertTrue(h.detail().contains("0x8030010b"), h.detail());
        assertTrue(h.detail().contains("driver not loaded"), h.detail());
    }

    @Test
    void anEmptyTableIsALostCard() {
        DeviceHealth h = SmiParser.table(fixture("empty-table.txt"), 0);
        assertEquals(DeviceHealth.Status.NOT_FOUND, h.status());
        DeviceHealth both = SmiParser.table(fixture("init-fail.txt") + fixture("empty-table.txt"), 0);
        assertTrue(both.detail().contains("0x8030010b"));
    }

    @Test
    void infoCmmWithTheManufacturersLowerCaseKiB() {
        SmiParser.CmmInfo c = SmiParser.cmm(fixture("info-cmm.txt"));
        assertEquals(1, c.deviceId());
        assertEquals(7040L, c.totalMiB());
        assertEquals(18L, c.usedMiB());
        SmiParser.CmmInfo noUsed = SmiParser.cmm("CMM Total : 7208960 KiB\nCMM Remain : 7190084 kiB\n");
        assertEquals(18L, noUsed.usedMiB(), "used = total - remain when the Used line is missing");
    }

    /** axcl-docs@df7ef4c doc_guide_axcl_smi.md:26-41 verbatim: rules, heavy lines and a process row. */
    @Test
    void theTableAsTheManufacturersGuidePrintsIt() {
        DeviceHealth h = SmiParser.table(fixture("table-documented.txt"), 0);
        assertEquals(DeviceHealth.Status.ANSWERING, h.status(), String.valueOf(h));
        assertEquals(52.0, h.readings().temperatureC());
        assertEquals(181L, h.readings().memoryUsedMiB());
        assertEquals(954L, h.readings().memoryTotalMiB());
        assertEquals(22L, h.readings().cmmUsedMiB());
        assertEquals(3072L, h.readings().cmmTotalMiB());
        assertEquals(3, h.readings().cpuPercent());
        assertEquals(0, h.readings().npuPercent());
        assertEquals(List.of(new CardProcess(763, "/opt/bin/axcl/axcl_run_model", 160)), h.readings().processes());
        assertEquals(List.of(), h.warnings());
        assertEquals(DeviceHealth.Status.NOT_FOUND, SmiParser.table(fixture("table-documented.txt"), 1).status());
    }

    /**
     * The binary's failure lines (its format strings, with values filled in): a card listed but not activated and an
     * index beyond the list are a card not found, with the tool's words; another axcl-smi running is not a card failure.
     */
    @Test
    void theBinarysFailureLines() {
        DeviceHealth active = SmiParser.table(fixture("active-fail.txt"), 0);
        assertEquals(DeviceHealth.Status.NOT_FOUND, active.status());
        assertTrue(active.detail().contains("active device 129 fail, ret = 0x80300181") && active.detail().contains("no device connected"),
                active.detail());
        DeviceHealth range = SmiParser.table(fixture("index-out-of-range.txt"), 1);
        assertEquals(DeviceHealth.Status.NOT_FOUND, range.status());
        assertTrue(range.detail().contains("out of connected devices number 1"), range.detail());
        assertTrue(SmiParser.busy(fixture("already-running.txt")));
        assertFalse(SmiParser.busy(fixture("table-documented.txt")));
        assertEquals(OptionalLong.empty(), SmiParser.tempMilliC(fixture("already-running.txt")), "no temperature in a refusal");
        assertEquals(OptionalLong.empty(), SmiParser.tempMilliC(fixture("active-fail.txt")), "129 is a device id, not a temperature");
    }

    @Test
    void infoTempTakesTheLastIntegerInMilliDegrees() {
        assertEquals(OptionalLong.of(49263), SmiParser.tempMilliC(fixture("info-temp.txt")));
        assertEquals(OptionalLong.of(49263), SmiParser.tempMilliC("Device ID           : 129 (0x81)\n" + fixture("info-temp.txt")));
        assertEquals(OptionalLong.of(41000), SmiParser.tempMilliC("41"), "a bare °C value");
        assertEquals(OptionalLong.empty(), SmiParser.tempMilliC(fixture("init-fail.txt")));
        assertEquals(OptionalLong.empty(), SmiParser.tempMilliC("temperature: 99999999"), "out of any physical range");
        assertEquals(OptionalLong.empty(), SmiParser.tempMilliC(""));
    }

    @Test
    void aChangedColumnLosesThatFieldOnlyAndSaysSo() {
        String changed = fixture("table-idle.txt").replace("|   --   41C                      -- / -- | 1%        0% |",
                "|   --   41°C                     -- / -- | 1 %       0 % |");
        DeviceHealth h = SmiParser.table(changed, 0);
        assertEquals(DeviceHealth.Status.ANSWERING, h.status());
        assertEquals(149L, h.readings().memoryUsedMiB(), "the card row still reads");
        assertEquals(null, h.readings().temperatureC());
        assertEquals(null, h.readings().cmmUsedMiB());
        assertFalse(h.warnings().isEmpty());
    }

    @Test
    void somethingElseEntirelyIsUnreadableNotACrash() {
        DeviceHealth h = SmiParser.table("Segmentation fault\n", 0);
        assertEquals(DeviceHealth.Status.UNREADABLE, h.status());
        assertFalse(h.warnings().isEmpty());
    }

    /**
     * Property: for any truncation or corruption of any documented output, the parsers return (never throw),
     * and every number they report appears in the input (nothing invented). Bounded: 4 × 2,500 cases.
     */
    @Test
    void damagedOutputNeverThrowsAndNeverInventsNumbers() {
        Random random = new Random(650);
        List<String> fixtures = List.of(fixture("table-idle.txt"), fixture("table-loaded.txt"), fixture("info-cmm.txt"),
                fixture("init-fail.txt") + fixture("empty-table.txt"), fixture("table-documented.txt"));
        for (String original : fixtures) {
            for (int i = 0; i < 2500; i++) {
                String damaged = damage(original, random);
                DeviceHealth h = SmiParser.table(damaged, 0);
                assertNotNull(h.status());
                if (h.readings().temperatureC() != null) {
                    assertTrue(damaged.contains(Math.round(h.readings().temperatureC()) + "C"), damaged);
                }
                if (h.readings().cmmTotalMiB() != null) {
                    assertTrue(damaged.contains(h.readings().cmmTotalMiB() + " MiB"), damaged);
                }
                for (CardProcess p : h.readings().processes()) {
                    assertTrue(damaged.contains(String.valueOf(p.pid())), damaged);
                }
                SmiParser.CmmInfo c = SmiParser.cmm(damaged);
                if (c.totalMiB() != null) {
                    assertTrue(c.totalMiB() >= 0);
                }
                SmiParser.tempMilliC(damaged);
            }
        }
    }

    private static String damage(String s, Random r) {
        StringBuilder b = new StringBuilder(s.substring(0, r.nextInt(s.length() + 1)));
        int edits = r.nextInt(6);
        for (int e = 0; e < edits && b.length() > 0; e++) {
            int at = r.nextInt(b.length());
            switch (r.nextInt(4)) {
                case 0 -> b.deleteCharAt(at);
                case 1 -> b.insert(at, (char) (r.nextInt(95) + 32));
                case 2 -> b.setCharAt(at, "|%0123456789 \n".charAt(r.nextInt(14)));
                default -> b.insert(at, "\u0000\uFFFD\r\n".charAt(r.nextInt(4)));
            }
        }
        return b.toString();
    }
}
