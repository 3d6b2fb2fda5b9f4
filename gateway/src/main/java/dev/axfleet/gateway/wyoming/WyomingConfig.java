package dev.axfleet.gateway.wyoming;

import dev.axfleet.config.Settings;
import java.time.Duration;

/**
 * Where the gateway offers Home Assistant's voice protocol ({@link WyomingServer}). Wyoming has no authentication, so it
 * listens on loopback unless configured, and an address beyond loopback needs {@code gateway.wyoming_allow_network=true}
 * as well (then a warning is logged at start): whoever reaches the port may use the card's speech models.
 *
 * @param port           TCP port (10300, the Wyoming add-ons' first; 0 any free port; -1 off)
 * @param maxConnections connections served at once; one more is answered with an error event and closed
 * @param idleTimeout    how long a peer may stay silent in the middle of a request before it is told and closed
 */
public record WyomingConfig(String bind, int port, boolean allowNetwork, int maxConnections, Duration idleTimeout) {
    public static final int DEFAULT_PORT = 10300;

    public static WyomingConfig from(Settings s) {
        return new WyomingConfig(s.string("gateway.wyoming_bind", "127.0.0.1"), s.integer("gateway.wyoming_port", DEFAULT_PORT),
                s.bool("gateway.wyoming_allow_network", false), Math.max(1, s.integer("gateway.wyoming_max_connections", 16)),
                s.duration("gateway.wyoming_idle_timeout", Duration.ofSeconds(30)));
    }

    public boolean enabled() {
        return port >= 0;
    }

    public boolean loopbackOnly() {
        return bind.equals("127.0.0.1") || bind.equals("::1") || bind.equals("localhost");
    }

    public String describe() {
        if (!enabled()) {
            return "gateway.wyoming_port=-1 (Home Assistant's Wyoming protocol off)";
        }
        return "gateway.wyoming_bind=" + bind + (loopbackOnly() ? " (loopback only)" : " (NO AUTHENTICATION: anyone who reaches it)")
                + " wyoming_port=" + port + " wyoming_max_connections=" + maxConnections + " wyoming_idle_timeout=" + idleTimeout;
    }
}
