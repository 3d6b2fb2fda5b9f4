package dev.axfleet.gateway;

import dev.axfleet.config.Settings;
import java.net.InetAddress;
import java.time.Duration;
import java.util.function.Predicate;

/**
 * How much of the gateway one HTTP client may hold ({@link GatewayServer}).
 *
 * @param readTimeout     time a connection has to deliver a whole request, headers and body, from when it opened or
 *                        its last answer went out; then the server closes it
 * @param idleTimeout     a read or write that makes no progress this long fails (Jetty's idle timeout)
 * @param maxConnections  connections in all; beyond it the server accepts no more until some close
 * @param maxPerAddress   connections from one client address; beyond it new ones are closed at once
 * @param retainBodyBytes bodies up to this size are read before a thread is given to the request
 * @param exempt          client addresses no per-address cap applies to
 */
public record HttpLimits(Duration readTimeout, Duration idleTimeout, int maxConnections, int maxPerAddress, int retainBodyBytes,
                         Predicate<InetAddress> exempt) {

    /** Loopback is exempt from the per-address cap: every installation client on the Pi connects from it. */
    static HttpLimits from(Settings s, int maxBodyBytes) {
        return new HttpLimits(
                s.duration("gateway.read_timeout", Duration.ofSeconds(30)),
                s.duration("gateway.idle_timeout", Duration.ofSeconds(30)),
                s.integer("gateway.max_connections", 1024),
                s.integer("gateway.max_connections_per_address", 64),
                maxBodyBytes,
                InetAddress::isLoopbackAddress);
    }

    public HttpLimits withExempt(Predicate<InetAddress> exempt) {
        return new HttpLimits(readTimeout, idleTimeout, maxConnections, maxPerAddress, retainBodyBytes, exempt);
    }

    String describe() {
        return "gateway.read_timeout=" + readTimeout + " idle_timeout=" + idleTimeout + " max_connections=" + maxConnections
                + " max_connections_per_address=" + maxPerAddress + " (loopback exempt)";
    }
}
