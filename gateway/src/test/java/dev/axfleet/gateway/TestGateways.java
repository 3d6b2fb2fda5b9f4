package dev.axfleet.gateway;

import dev.axfleet.broker.testing.TestBroker;
import dev.axfleet.config.Settings;
import java.util.HashMap;
import java.util.Map;

/** A gateway on a test broker, listening on a free port, with the test's own settings on top. */
final class TestGateways {
    private TestGateways() {
    }

    static Gateway start(TestBroker broker, Map<String, String> settings) {
        Map<String, String> s = new HashMap<>(Map.of("broker.url", "mqtt://127.0.0.1:" + broker.address().port(), "gateway.port", "0"));
        s.putAll(settings);
        return Gateway.start(GatewayConfig.from(Settings.of(s)));
    }
}
