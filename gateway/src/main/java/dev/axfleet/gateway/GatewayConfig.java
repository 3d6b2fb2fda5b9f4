package dev.axfleet.gateway;

import dev.axfleet.broker.BrokerAddress;
import dev.axfleet.config.Settings;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;

/**
 * The gateway's settings, read once at start ({@link Settings}) and printed by {@link #describe()}.
 *
 * @param bind              address to listen on; loopback unless configured
 * @param models            models accepted even before any worker has announced them
 * @param requestTimeout    how long a request waits for its answer; also its job's expiry
 * @param maxPendingPerModel jobs of this gateway waiting or running per model before 503 + Retry-After
 * @param keepAlive         idle time after which a streaming response sends an SSE comment, which also
 *                          reveals a client that has gone (its job is then cancelled)
 * @param cardStale         card health older than this is ignored (its monitor is gone)
 * @param sessionExpiry     how long the broker keeps this gateway's replies while it is disconnected
 * @param brokerGrace       how long waiting callers wait for a lost broker before they are answered 503
 * @param apiKeyFile        file holding the API key the facades require (mode 0600); null: no key needed
 * @param adminTokenFile    file holding the admin token for {@code /admin/...} (mode 0600); null disables admin routes
 * @param imageModel        the model AUTOMATIC1111's, /generate's and OpenAI's image routes run on
 * @param maxImageBodyBytes the largest body the image routes read (they carry input images)
 * @param drain             on stop, how long requests in progress may take to finish (new ones get 503) before
 *                          the listener closes and the jobs of callers still waiting are cancelled
 */
public record GatewayConfig(
        String bind,
        int port,
        String gatewayId,
        BrokerAddress broker,
        List<String> models,
        Duration requestTimeout,
        int maxPendingPerModel,
        int maxBodyBytes,
        Duration keepAlive,
        Duration cardStale,
        java.nio.file.Path adminTokenFile,
        Duration sessionExpiry,
        Duration brokerGrace,
        java.nio.file.Path apiKeyFile,
        Duration drain,
        String imageModel,
        int maxImageBodyBytes) {

    public static GatewayConfig from(Settings s) {
        BrokerAddress broker = BrokerAddress.parse(s.string("broker.url", "mqtt://127.0.0.1:1883"));
        String user = s.string("gateway.mqtt_username", null);
        if (user != null) {
            broker = broker.withCredentials(user, s.string("gateway.mqtt_password", null));
        }
        String models = s.string("gateway.models", "");
        return new GatewayConfig(
                s.string("gateway.bind", "127.0.0.1"),
                s.integer("gateway.port", 8080),
                s.string("gateway.id", "gw-" + Settings.hostname() + "-" + UUID.randomUUID().toString().substring(0, 4)),
                broker,
                Arrays.stream(models.split(",")).map(String::trim).filter(m -> !m.isEmpty()).toList(),
                s.duration("gateway.request_timeout", Duration.ofSeconds(300)),
                s.integer("gateway.max_pending_per_model", 64),
                s.integer("gateway.max_body_bytes", 1 << 20),
                s.duration("gateway.keep_alive", Duration.ofSeconds(10)),
                s.duration("gateway.card_stale", Duration.ofSeconds(20)),
                java.util.Optional.ofNullable(s.string("gateway.admin_token_file", null)).map(java.nio.file.Path::of).orElse(null),
                s.duration("gateway.session_expiry", Duration.ofMinutes(5)),
                s.duration("gateway.broker_grace", Duration.ofSeconds(5)),
                java.util.Optional.ofNullable(s.string("gateway.api_key_file", null)).map(java.nio.file.Path::of).orElse(null),
                s.duration("gateway.drain", Duration.ofSeconds(30)),
                s.string("gateway.image_model", "sd15-lcm"),
                s.integer("gateway.max_image_body_bytes", dev.axfleet.broker.WireCodec.MAX_IMAGE_JOB_BYTES));
    }

    public List<String> describe() {
        return List.of(
                "gateway.bind=" + bind + (bind.equals("127.0.0.1") ? " (loopback only)" : ""),
                "gateway.port=" + port,
                "gateway.id=" + gatewayId,
                "broker.url=" + broker,
                "gateway.models=" + String.join(",", models),
                "gateway.request_timeout=" + requestTimeout,
                "gateway.max_pending_per_model=" + maxPendingPerModel,
                "gateway.max_body_bytes=" + maxBodyBytes + " max_image_body_bytes=" + maxImageBodyBytes,
                "gateway.image_model=" + imageModel,
                "gateway.keep_alive=" + keepAlive,
                "gateway.card_stale=" + cardStale,
                "gateway.session_expiry=" + sessionExpiry + " broker_grace=" + brokerGrace + " drain=" + drain,
                "gateway.api_key_file=" + (apiKeyFile == null ? "(none: no API key needed)" : apiKeyFile + " (Authorization: Bearer required on /v1 and /api)"),
                "gateway.admin_token_file=" + (adminTokenFile == null ? "(none: admin routes disabled)" : adminTokenFile));
    }
}
