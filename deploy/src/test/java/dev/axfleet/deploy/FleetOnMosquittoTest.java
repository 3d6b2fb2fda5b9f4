package dev.axfleet.deploy;

import dev.axfleet.broker.testing.TestBroker;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/** {@link FleetSuite} (with the Ollama and client suites) on a real Mosquitto started on a free loopback port. */
class FleetOnMosquittoTest extends ClientsSuite {
    @TempDir
    static Path dir;

    @BeforeAll
    static void start() throws Exception {
        startFleet(TestBroker.mosquitto(dir.resolve("broker")), dir.resolve("home"));
    }
}
