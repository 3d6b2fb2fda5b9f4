package dev.axfleet.deploy.doctor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.axfleet.broker.testing.TestTools;
import dev.axfleet.config.Settings;
import dev.axfleet.deploy.Fleet;
import dev.axfleet.deploy.FleetConfig;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code axfleet doctor --emulated --disruptive} as a person runs it, through the command line's entry point, on a machine
 * where an (emulated) fleet runs: every check runs against the emulator doctor starts and passes, the report lists every
 * unverified item of docs/hardware.md and says everywhere that it is emulated. And U9's wrong reading with that real
 * fleet: doctor for the card finds the fleet running the emulator.
 */
class DoctorEmulatedTest {
    @TempDir
    static Path home;
    static Fleet fleet;

    @BeforeAll
    static void start() throws Exception {
        fleet = Fleet.start(FleetConfig.from(Settings.of(Map.of(
                "fleet.home", home.resolve("fleet").toString(),
                "fleet.emulate", "true",
                "fleet.monitor", "false",
                "fleet.models", "qwen3-doctor=Qwen3-0.6B",
                "fleet.image_model", "",
                "emulator.time_scale", "0",
                "broker.embedded_port", "0",
                "gateway.port", "0"))));
        HttpClient http = HttpClient.newHttpClient();
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + fleet.gatewayPort() + "/health")).build(),
                HttpResponse.BodyHandlers.ofString()).body().contains("\"status\":\"ok\"")) {
            assertTrue(System.nanoTime() < deadline, "the fleet did not become healthy");
            Thread.sleep(100);
        }
    }

    @AfterAll
    static void stop() {
        fleet.close();
    }

    static Map<String, String> settings(Path dir) {
        return Doctors.with(Doctors.settings(dir), "gateway.port", String.valueOf(fleet.gatewayPort()));
    }

    @Test
    void everyCheckPassesOnTheEmulatorAndEveryItemIsListed(@TempDir Path dir) throws Exception {
        TestTools.require("cc", "apt-get install gcc", Files.isExecutable(Path.of("/usr/bin/cc")));
        Doctors.Run run = Doctors.doctor(dir, settings(dir), "--emulated", "--disruptive");
        // The report as a person would paste it, kept for a look (deploy/target/doctor-emulated-report.md).
        Files.writeString(Path.of("target", "doctor-emulated-report.md"), run.out());
        StringBuilder failing = new StringBuilder();
        for (JsonElement e : run.json().getAsJsonArray("checks")) {
            JsonObject c = e.getAsJsonObject();
            if (List.of("differs", "skipped").contains(c.get("verdict").getAsString())) {
                failing.append(run.explain(c.get("id").getAsString())).append("\n\n");
            }
        }
        assertEquals("", failing.toString(), "every check passes on the emulator");
        assertEquals(0, run.exit(), run.err());
        List<HardwareItems.Item> items = HardwareItems.parse(Files.readString(Path.of("..", "docs", "hardware.md")));
        List<String> listed = run.json().getAsJsonArray("items").asList().stream().map(i -> i.getAsJsonObject().get("id").getAsString()).toList();
        assertEquals(items.stream().map(HardwareItems.Item::id).toList(), listed, "the report lists every U-item of docs/hardware.md, in order");
        for (JsonElement e : run.json().getAsJsonArray("items")) {
            JsonObject i = e.getAsJsonObject();
            String id = i.get("id").getAsString();
            boolean noCheck = items.stream().anyMatch(x -> x.id().equals(id) && x.noCheck() != null);
            assertEquals(noCheck ? "skipped" : "verified", i.get("verdict").getAsString(), id + ": " + i.get("seen").getAsString());
            assertTrue(run.out().contains("| " + id + " "), id + " in the Markdown table");
        }
        assertTrue(run.json().get("emulated").getAsBoolean());
        assertTrue(run.out().startsWith("# axfleet doctor report — EMULATED"), run.out());
        assertEquals(run.json().getAsJsonArray("checks").size() + run.json().getAsJsonArray("items").size(),
                run.out().split("\\(emulated\\)", -1).length - 1, "every verdict in the Markdown says emulated");
        for (JsonElement e : run.json().getAsJsonArray("checks")) {
            assertTrue(e.getAsJsonObject().get("emulated").getAsBoolean());
        }
        assertTrue(run.json().getAsJsonObject("versions").get("axcl-smi").getAsString().contains("emulator"), run.json().toString());
        assertTrue(run.out().indexOf("## Versions") < run.out().indexOf("## The unverified items"), "versions first");
    }

    @Test
    void aFleetOnTheEmulatorDiffersOnAHostThatShouldUseTheCard(@TempDir Path dir) throws Exception {
        Doctors.Run run = Doctors.doctor(dir, Doctors.with(settings(dir), "monitor.device_node", dir.resolve("no-card").toString()), "--only", "U9");
        assertEquals("differs", run.verdict("U9"), run.explain("U9"));
        assertTrue(run.seen("U9").contains("EMULATOR"), run.seen("U9"));
        assertTrue(run.err().contains("no card here"), run.err());
        assertEquals(1, run.exit());
    }
}
