package dev.axfleet.deploy.doctor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.axfleet.broker.testing.TestTools;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code axfleet doctor --emulated --disruptive} as a person runs it, through the command line's entry point: every check
 * runs against the emulator doctor starts, none differs, the report lists every unverified item of docs/hardware.md and
 * says it is emulated.
 */
class DoctorEmulatedTest {
    @TempDir
    Path dir;

    @Test
    void everyCheckPassesOnTheEmulatorAndEveryItemIsListed() throws Exception {
        TestTools.require("cc", "apt-get install gcc", Files.isExecutable(Path.of("/usr/bin/cc")));
        Doctors.Run run = Doctors.doctor(dir, Doctors.settings(dir), "--emulated", "--disruptive");
        System.err.println(run.err());
        StringBuilder differing = new StringBuilder();
        for (JsonElement e : run.json().getAsJsonArray("checks")) {
            JsonObject c = e.getAsJsonObject();
            String v = c.get("verdict").getAsString();
            if (v.equals("differs") || v.equals("skipped") && !c.get("id").getAsString().equals("U9")) {
                differing.append(run.explain(c.get("id").getAsString())).append("\n\n");
            }
        }
        assertEquals("", differing.toString(), "every check passes on the emulator");
        assertEquals(0, run.exit(), run.err());
        List<String> items = HardwareItems.parse(Files.readString(Path.of("..", "docs", "hardware.md"))).stream().map(HardwareItems.Item::id).toList();
        List<String> listed = run.json().getAsJsonArray("items").asList().stream().map(i -> i.getAsJsonObject().get("id").getAsString()).toList();
        assertEquals(items, listed, "the report lists every U-item of docs/hardware.md, in order");
        assertTrue(run.json().get("emulated").getAsBoolean());
        assertTrue(run.out().startsWith("# axfleet doctor report — EMULATED"), run.out());
        for (String id : items) {
            assertTrue(run.out().contains("| " + id + " "), id + " in the Markdown table");
        }
        for (JsonElement e : run.json().getAsJsonArray("checks")) {
            assertTrue(e.getAsJsonObject().get("emulated").getAsBoolean());
        }
        assertTrue(run.json().getAsJsonObject("versions").get("axcl-smi").getAsString().contains("emulator"), run.json().toString());
    }
}
