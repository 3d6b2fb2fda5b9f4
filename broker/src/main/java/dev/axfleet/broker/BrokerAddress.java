package dev.axfleet.broker;

import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;

/**
 * Where the MQTT broker is: {@code mqtt://[user[:password]@]host[:port]}.
 */
public record BrokerAddress(String host, int port, String username, String password) {

    public static BrokerAddress parse(String url) {
        URI uri = URI.create(url.contains("://") ? url : "mqtt://" + url);
        if (!"mqtt".equals(uri.getScheme()) && !"tcp".equals(uri.getScheme())) {
            throw new IllegalArgumentException("broker URL must start with mqtt:// : " + url);
        }
        if (uri.getHost() == null) {
            throw new IllegalArgumentException("broker URL has no host: " + url);
        }
        String user = null;
        String pass = null;
        if (uri.getRawUserInfo() != null) {
            String[] parts = uri.getRawUserInfo().split(":", 2);
            user = URLDecoder.decode(parts[0], StandardCharsets.UTF_8);
            pass = parts.length > 1 ? URLDecoder.decode(parts[1], StandardCharsets.UTF_8) : null;
        }
        return new BrokerAddress(uri.getHost(), uri.getPort() < 0 ? 1883 : uri.getPort(), user, pass);
    }

    public static BrokerAddress loopback(int port) {
        return new BrokerAddress("127.0.0.1", port, null, null);
    }

    public BrokerAddress withCredentials(String user, String pass) {
        return new BrokerAddress(host, port, user, pass);
    }

    /** The URL without the password, for logs. */
    @Override
    public String toString() {
        return "mqtt://" + (username == null ? "" : username + (password == null ? "" : ":***") + "@") + host + ":" + port;
    }
}
