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
 * @param models            models accepted even before any worker has announced them, each with the kind of work it does
 *                          ({@code name} is a chat model, {@code name=image}, {@code name=embedding}, ...)
 * @param requestTimeout    how long a request waits for its answer; also its job's expiry
 * @param maxPendingPerModel jobs of this gateway waiting or running per model before 503 + Retry-After
 * @param keepAlive         idle time after which a streaming response sends an SSE comment, which also
 *                          reveals a client that has gone (its job is then cancelled)
 * @param cardStale         card health older than this is ignored (its monitor is gone)
 * @param sessionExpiry     how long the broker keeps this gateway's replies while it is disconnected
 * @param brokerGrace       how long waiting callers wait for a lost broker before they are answered 503
 * @param apiKeyFile        file holding the API key the facades require (mode 0600); null: no key needed
 * @param adminTokenFile    file holding the admin token for {@code /admin/...} (mode 0600); null disables admin routes
 * @param imageModel        a configured model named without a kind that is an image model (the settings of installs
 *                          made before kinds were named: {@code gateway.models = qwen3-1.7b,sd15-lcm})
 * @param maxImageBodyBytes the largest body the image routes read (they carry input images)
 * @param drain             on stop, how long requests in progress may take to finish (new ones get 503) before
 *                          the listener closes and the jobs of callers still waiting are cancelled
 * @param allowAnonymous    whether to listen beyond loopback with no API key (as Mosquitto 2 asks for allow_anonymous)
 * @param compatPorts       the classic ports to listen on too (AXFLEET_COMPAT_PORTS=1), each with its number; empty when off
 * @param aliases           model names clients already use, each mapped to a model the bus knows
 * @param fallbackModel     the model that answers names nobody knows (logged each time), or null: a 404 names the models
 * @param conversational    model names (or aliases) whose Ollama /api/generate keeps the conversation on the server
 * @param conversationDir   where those conversations are kept across restarts
 * @param conversationMaxMessages the most messages a kept conversation holds on disk
 * @param conversationMaxTokens   the longest answer a conversation turn gets when the client sets none (spoken
 *                                answers that end within the coyote's 30 s at the card's 7 tokens a second)
 * @param imageReuse        how long a finished image answers an identical request again (the kiosk's retries)
 * @param http              how much of the HTTP server one client may hold: read deadline, connection caps
 * @param imageUrls         whether and how images named by http(s) URL in chat messages are fetched
 * @param cors              the web origins whose pages may call from a browser, with Ollama's defaults
 * @param wyoming           where Home Assistant's voice protocol is offered (loopback, port 10300, unless configured)
 */
public record GatewayConfig(
        String bind,
        int port,
        String gatewayId,
        BrokerAddress broker,
        java.util.Map<String, dev.axfleet.broker.Kind> models,
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
        int maxImageBodyBytes,
        boolean allowAnonymous,
        java.util.Map<CompatPort, Integer> compatPorts,
        java.util.Map<String, String> aliases,
        String fallbackModel,
        List<String> conversational,
        java.nio.file.Path conversationDir,
        int conversationMaxMessages,
        int conversationMaxTokens,
        Duration imageReuse,
        HttpLimits http,
        ImageUrls imageUrls,
        CorsOrigins cors,
        dev.axfleet.gateway.wyoming.WyomingConfig wyoming) {

    public static GatewayConfig from(Settings s) {
        BrokerAddress broker = BrokerAddress.parse(s.string("broker.url", "mqtt://127.0.0.1:1883"));
        String user = s.string("gateway.mqtt_username", null);
        if (user != null) {
            broker = broker.withCredentials(user, s.string("gateway.mqtt_password", null));
        }
        String imageModel = s.string("gateway.image_model", "sd15-lcm");
        java.util.Map<String, dev.axfleet.broker.Kind> models = new java.util.LinkedHashMap<>();
        for (String entry : list(s.string("gateway.models", ""))) {
            String[] kv = entry.split("=", 2);
            String name = kv[0].trim();
            dev.axfleet.broker.Kind kind = kv.length == 2 ? dev.axfleet.broker.WireName.parse(dev.axfleet.broker.Kind.class, kv[1].trim())
                    .orElseThrow(() -> new IllegalArgumentException("gateway.models: '" + entry + "' names no kind of work; kinds: "
                            + java.util.Arrays.stream(dev.axfleet.broker.Kind.values()).map(dev.axfleet.broker.Kind::wire).toList()))
                    : name.equals(imageModel) ? dev.axfleet.broker.Kind.IMAGE : dev.axfleet.broker.Kind.CHAT;
            models.put(name, kind);
        }
        // AXFLEET_COMPAT_PORTS=1 is the one switch the migration guide names; gateway.compat_ports in a file.
        boolean compat = s.bool("gateway.compat_ports", s.bool("compat_ports", false));
        java.util.Map<CompatPort, Integer> ports = new java.util.EnumMap<>(CompatPort.class);
        if (compat) {
            for (CompatPort p : CompatPort.values()) {
                ports.put(p, s.integer(p.setting(), p.classic()));
            }
        }
        java.util.Map<String, String> aliases = new java.util.TreeMap<>();
        for (String pair : list(s.string("gateway.aliases", ""))) {
            String[] kv = pair.split("=", 2);
            if (kv.length != 2 || kv[0].isBlank() || kv[1].isBlank()) {
                throw new IllegalArgumentException("gateway.aliases takes name=model pairs separated by commas, not '" + pair + "'");
            }
            aliases.put(kv[0].trim(), kv[1].trim());
        }
        int maxBodyBytes = s.integer("gateway.max_body_bytes", 1 << 20);
        return new GatewayConfig(
                s.string("gateway.bind", "127.0.0.1"),
                s.integer("gateway.port", 8080),
                s.string("gateway.id", "gw-" + Settings.hostname() + "-" + UUID.randomUUID().toString().substring(0, 4)),
                broker,
                java.util.Collections.unmodifiableMap(models),
                s.duration("gateway.request_timeout", Duration.ofSeconds(300)),
                s.integer("gateway.max_pending_per_model", 64),
                maxBodyBytes,
                s.duration("gateway.keep_alive", Duration.ofSeconds(10)),
                s.duration("gateway.card_stale", Duration.ofSeconds(20)),
                java.util.Optional.ofNullable(s.string("gateway.admin_token_file", null)).map(java.nio.file.Path::of).orElse(null),
                s.duration("gateway.session_expiry", Duration.ofMinutes(5)),
                s.duration("gateway.broker_grace", Duration.ofSeconds(5)),
                java.util.Optional.ofNullable(s.string("gateway.api_key_file", null)).map(java.nio.file.Path::of).orElse(null),
                s.duration("gateway.drain", Duration.ofSeconds(30)),
                imageModel,
                s.integer("gateway.max_image_body_bytes", dev.axfleet.broker.image.ImageCodec.MAX_JOB_BYTES),
                s.bool("gateway.allow_anonymous", false),
                java.util.Map.copyOf(ports),
                java.util.Map.copyOf(aliases),
                s.string("gateway.fallback_model", null),
                list(s.string("gateway.conversational_models", "")),
                java.nio.file.Path.of(s.string("gateway.conversation_dir", "conversations")).toAbsolutePath(),
                s.integer("gateway.conversation_max_messages", 400),
                s.integer("gateway.conversation_max_tokens", 160),
                s.duration("gateway.image_reuse", Duration.ofMinutes(2)),
                HttpLimits.from(s, maxBodyBytes),
                ImageUrls.from(s),
                CorsOrigins.parse(s.string("gateway.cors_origins", "")),
                dev.axfleet.gateway.wyoming.WyomingConfig.from(s));
    }

    private static List<String> list(String commaSeparated) {
        return Arrays.stream(commaSeparated.split(",")).map(String::trim).filter(m -> !m.isEmpty()).toList();
    }

    /** The same settings with other HTTP limits. */
    public GatewayConfig withHttp(HttpLimits limits) {
        return new GatewayConfig(bind, port, gatewayId, broker, models, requestTimeout, maxPendingPerModel, maxBodyBytes, keepAlive,
                cardStale, adminTokenFile, sessionExpiry, brokerGrace, apiKeyFile, drain, imageModel, maxImageBodyBytes, allowAnonymous,
                compatPorts, aliases, fallbackModel, conversational, conversationDir, conversationMaxMessages, conversationMaxTokens,
                imageReuse, limits, imageUrls, cors, wyoming);
    }

    /** Whether the gateway listens only where nobody but this machine can reach it. */
    public boolean loopbackOnly() {
        return bind.equals("127.0.0.1") || bind.equals("::1") || bind.equals("localhost");
    }

    public List<String> describe() {
        return List.of(
                "gateway.bind=" + bind + (bind.equals("127.0.0.1") ? " (loopback only)" : ""),
                "gateway.port=" + port,
                "gateway.id=" + gatewayId,
                "broker.url=" + broker,
                "gateway.models=" + models.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue().wire())
                        .collect(java.util.stream.Collectors.joining(",")),
                "gateway.request_timeout=" + requestTimeout,
                "gateway.max_pending_per_model=" + maxPendingPerModel,
                "gateway.max_body_bytes=" + maxBodyBytes + " max_image_body_bytes=" + maxImageBodyBytes,
                "gateway.keep_alive=" + keepAlive,
                "gateway.card_stale=" + cardStale,
                "gateway.session_expiry=" + sessionExpiry + " broker_grace=" + brokerGrace + " drain=" + drain,
                "gateway.api_key_file=" + (apiKeyFile == null
                        ? "(none: no API key needed" + (loopbackOnly() ? ", loopback only)" : "; gateway.allow_anonymous=true lets anyone on the network in)")
                        : apiKeyFile + " (Bearer, Basic or X-API-Key required on /v1, /api, /sdapi and /generate)"),
                "gateway.compat_ports=" + (compatPorts.isEmpty() ? "off" : compatPorts.entrySet().stream()
                        .map(e -> e.getValue() + " (" + e.getKey().describe() + ")").collect(java.util.stream.Collectors.joining(", "))),
                "gateway.aliases=" + aliases + " fallback_model=" + (fallbackModel == null ? "(none: unknown names get 404)" : fallbackModel),
                "gateway.conversational_models=" + String.join(",", conversational) + " conversation_dir=" + conversationDir
                        + " conversation_max_messages=" + conversationMaxMessages + " conversation_max_tokens=" + conversationMaxTokens,
                "gateway.image_reuse=" + imageReuse,
                "gateway.fetch_image_urls=" + (imageUrls.fetch() ? "true (max " + imageUrls.maxBytes() + " bytes, " + imageUrls.timeout()
                        + (imageUrls.allowLoopback() ? ", LOOPBACK ALLOWED: a test setting" : "") + ")" : "false (chat images come as data: URLs)"),
                http.describe(),
                cors.describe(),
                wyoming.describe(),
                "gateway.admin_token_file=" + (adminTokenFile == null ? "(none: admin routes disabled)" : adminTokenFile));
    }
}
