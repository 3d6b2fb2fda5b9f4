package dev.axfleet.deploy;

import dev.axfleet.broker.testing.TestBroker;
import dev.axfleet.config.Settings;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * A whole emulated fleet on an embedded broker, as the client suites start it (emulator at 0.01 of the card's pace, no
 * monitor, gateway on a free port), ready when started; {@code settings} add to or override those.
 */
final class EmulatedFleet implements AutoCloseable {
    final TestBroker broker;
    final Fleet fleet;
    final String base;

    private EmulatedFleet(TestBroker broker, Fleet fleet) {
        this.broker = broker;
        this.fleet = fleet;
        this.base = "http://127.0.0.1:" + fleet.gatewayPort();
    }

    static EmulatedFleet start(Path dir, Map<String, String> settings) throws Exception {
        TestBroker broker = TestBroker.embedded(dir.resolve("broker"));
        Map<String, String> s = new HashMap<>(Map.of(
                "fleet.home", dir.resolve("home").toString(),
                "fleet.emulate", "true",
                "fleet.monitor", "false",
                "emulator.time_scale", "0.01",
                "broker.url", "mqtt://127.0.0.1:" + broker.address().port(),
                "gateway.port", "0"));
        s.putAll(settings);
        Fleet fleet;
        try {
            fleet = Fleet.start(FleetConfig.from(Settings.of(s)));
        } catch (Exception | Error e) {
            broker.close();
            throw e;
        }
        EmulatedFleet f = new EmulatedFleet(broker, fleet);
        TestFleets.awaitHealthy(f.base);
        return f;
    }

    @Override
    public void close() {
        fleet.close();
        broker.close();
    }
}
