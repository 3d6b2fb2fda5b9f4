package dev.axfleet.deploy.doctor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.axfleet.config.Settings;
import dev.axfleet.deploy.Fleet;
import dev.axfleet.deploy.FleetConfig;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * U9, the fleet that runs here, against a real (emulated) fleet with its gateway: doctor --emulated finds it emulated, as
 * it must be without a card; doctor for the card finds the same fleet running the emulator and says the item differs.
 */
class DoctorFleetTest {
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

    @Test
    void anEmulatedFleetIsWhatAnEmulatedRunExpects() throws Exception {
        Doctors.Run run = Doctors.doctor(home, Doctors.with(Doctors.settings(home), "gateway.port", String.valueOf(fleet.gatewayPort())),
                "--emulated", "--only", "U9");
        assertEquals("verified", run.verdict("U9"), run.explain("U9"));
        assertEquals(0, run.exit());
    }

    @Test
    void aFleetOnTheEmulatorDiffersOnAHostThatShouldUseTheCard() throws Exception {
        Doctors.Run run = Doctors.doctor(home, Doctors.with(Doctors.settings(home), "gateway.port", String.valueOf(fleet.gatewayPort()),
                "monitor.device_node", home.resolve("no-card").toString()), "--only", "U9");
        assertEquals("differs", run.verdict("U9"), run.explain("U9"));
        assertTrue(run.seen("U9").contains("EMULATOR"), run.seen("U9"));
        assertTrue(run.err().contains("no card here"), run.err());
        assertEquals(1, run.exit());
    }
}
