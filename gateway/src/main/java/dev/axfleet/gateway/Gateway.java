package dev.axfleet.gateway;

import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import dev.axfleet.broker.Kind;
import dev.axfleet.gateway.bus.Bus;
import dev.axfleet.gateway.embed.EmbeddingsFacade;
import dev.axfleet.gateway.images.ImageFacade;
import dev.axfleet.gateway.ollama.OllamaFacade;
import dev.axfleet.gateway.openai.OpenAiFacade;
import dev.axfleet.gateway.page.CardHistory;
import dev.axfleet.gateway.page.FleetPage;
import dev.axfleet.gateway.page.JobLog;
import dev.axfleet.gateway.residency.Residency;
import dev.axfleet.gateway.residency.ResidencyRoutes;
import dev.axfleet.gateway.speech.SpeechFacade;
import dev.axfleet.gateway.transcribe.TranscriptionsFacade;
import dev.axfleet.gateway.voice.VoiceBus;
import dev.axfleet.gateway.voice.VoiceRoutes;
import dev.axfleet.gateway.voice.VoiceTurns;
import dev.axfleet.gateway.wyoming.WyomingServer;
import java.time.Clock;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import spark.Service;

/**
 * The REST side of axfleet: facades that turn HTTP requests into jobs on the bus and results back into
 * responses, plus {@code /health} and {@code /metrics}. Workers are reached only through the broker,
 * exactly as a device reaches them.
 */
public final class Gateway implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Gateway.class);

    private final GatewayConfig config;
    private final Bus client;
    private final BusWatch bus;
    private final Service http;

    private final AtomicInteger inFlight;
    private final Listeners listeners;
    private final WyomingServer wyoming;
    private final VoiceBus voiceBus;

    private Gateway(GatewayConfig config, Bus client, BusWatch bus, Service http, AtomicInteger inFlight, Listeners listeners,
                    WyomingServer wyoming, VoiceBus voiceBus) {
        this.config = config;
        this.client = client;
        this.bus = bus;
        this.http = http;
        this.inFlight = inFlight;
        this.listeners = listeners;
        this.wyoming = wyoming;
        this.voiceBus = voiceBus;
    }

    /** Connects to the broker (waiting up to 10 s; it keeps trying after that) and starts listening. */
    public static Gateway start(GatewayConfig config) {
        // Secrets first: a key file others can read stops the start before anything is bound or connected.
        byte[] apiKey = secret(config.apiKeyFile(), "gateway.api_key_file");
        byte[] adminToken = secret(config.adminTokenFile(), "gateway.admin_token_file");
        if (apiKey == null && !config.loopbackOnly() && !config.allowAnonymous()) {
            // As Mosquitto 2 does: open to the network without credentials only when asked for in so many words.
            throw new IllegalStateException("gateway.bind=" + config.bind() + " reaches beyond this machine and no API key is set: "
                    + "set gateway.api_key_file, or gateway.allow_anonymous=true to let anyone on the network in");
        }
        WyomingServer.refuseUnsafe(config.wyoming());
        ModelRegistry registry = new ModelRegistry(config.models(), config.aliases(), config.fallbackModel(), config.cardStale(),
                Clock.systemUTC());
        Bus client = new Bus(config.broker(), config.gatewayId(), Clock.systemUTC(), config.sessionExpiry(), config.brokerGrace());
        Metrics metrics = new Metrics(registry, client);
        JobLog jobs = new JobLog(Clock.systemUTC());
        CardHistory history = new CardHistory();
        BusWatch bus = new BusWatch(config.broker(), config.gatewayId(), metrics, jobs, history);
        bus.start();
        try {
            client.connect(registry).get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            log.warn("broker {} not reachable yet ({}); requests get 503 until it is", config.broker(), e.toString());
        }
        JobRunner runner = new JobRunner(client, registry, config, metrics);
        Conversations conversations = new Conversations(config.conversationDir(), config.conversationMaxMessages());
        ConversationTurns turns = new ConversationTurns(runner, registry, config, conversations);
        VoiceTurns voiceTurns = new VoiceTurns(runner, registry, config, conversations);
        AtomicInteger inFlight = new AtomicInteger();
        Listeners listeners = new Listeners(config.bind(), config.http(), new ApiKey(apiKey), new Cors(config.cors()), metrics, inFlight);
        OpenAiFacade openAi = new OpenAiFacade(runner, registry, config);
        Residency residency = new Residency(client, registry, config.requestTimeout(), Clock.systemUTC());
        OllamaFacade ollama = new OllamaFacade(runner, registry, config, turns, residency);
        ImageFacade images = new ImageFacade(runner, registry, config);
        EmbeddingsFacade embeddings = new EmbeddingsFacade(runner, registry, config);
        FleetPage page = new FleetPage(registry, client, jobs, history, apiKey != null);
        TranscriptionsFacade transcriptions = new TranscriptionsFacade(runner, registry);
        SpeechFacade speech = new SpeechFacade(runner, registry, config);
        Service http = listeners.open(config.port(), 200, service -> {
            openAi.register(service);
            ollama.register(service);
            images.register(service);
            embeddings.registerOpenAi(service);
            embeddings.registerOllama(service);
            page.register(service, EnumSet.allOf(Kind.class));
            transcriptions.register(service);
            speech.register(service);
            new VoiceRoutes(voiceTurns, registry).register(service);
            service.get("/health", new Health(client, registry, listeners)::handle);
            Admin admin = new Admin(client, adminToken, Clock.systemUTC());
            service.post("/admin/cards/:host/:card/reset", admin::resetCard);
            new ResidencyRoutes(residency, registry, admin::authorize, config.maxBodyBytes()).register(service);
            service.get("/metrics", (req, res) -> {
                res.type(Metrics.CONTENT_TYPE);
                return metrics.render();
            });
        });
        if (http == null) {
            String why = listeners.states().get(config.port());
            throw new dev.axfleet.config.StartupException(why != null && why.contains("in use")
                    ? "port " + config.port() + " is taken: another program listens on " + config.bind() + ":" + config.port()
                    + " (sudo ss -ltnp 'sport = :" + config.port() + "' names it; another axfleet gateway or ./axfleet up?);"
                    + " stop it, or set gateway.port"
                    : "gateway.port " + config.port() + ": " + why);
        }
        log.info("gateway listening on http://{}:{} (OpenAI: /v1/chat/completions, /v1/completions, /v1/embeddings, /v1/models, /v1/images/generations, "
                + "/v1/audio/transcriptions, /v1/audio/speech, /v1/voice/turns; Ollama: /api/chat, /api/generate, /api/embed, /api/tags; "
                + "AUTOMATIC1111: /sdapi/v1/txt2img, /sdapi/v1/img2img; /generate; /health, /metrics; the page at / for browsers, /fleet); credentials: {}",
                config.bind(), http.port(), apiKey != null ? "API key required (Bearer, Basic or X-API-Key)"
                        : config.loopbackOnly() ? "none needed (loopback only)" : "NONE NEEDED: anyone on the network may call (gateway.allow_anonymous=true)");
        LegacySessionApi legacy = new LegacySessionApi(runner, config, turns);
        config.compatPorts().forEach((port, number) -> {
            if (number < 0) {
                return;
            }
            listeners.open(number, 64, service -> {
                switch (port) {
                    case OLLAMA -> {
                        ollama.register(service);
                        openAi.register(service);
                        embeddings.registerOllama(service);
                        embeddings.registerOpenAi(service);
                        page.register(service, EnumSet.of(Kind.CHAT, Kind.EMBEDDING));
                    }
                    case SD_SERVICE, A1111 -> {
                        images.register(service);
                        page.register(service, EnumSet.of(Kind.IMAGE, Kind.INTERROGATION));
                    }
                    case LEGACY -> {
                        legacy.register(service);
                        page.register(service, EnumSet.noneOf(Kind.class));
                    }
                }
            });
            log.info("classic port {}: {} ({})", number, listeners.states().get(number), port.describe());
        });
        VoiceBus voiceBus = null;
        if (config.models().containsValue(Kind.TRANSCRIPTION) && config.models().containsValue(Kind.SPEECH)) {
            voiceBus = new VoiceBus(config.broker(), config.gatewayId(), voiceTurns);
            voiceBus.start();
        }
        return new Gateway(config, client, bus, http, inFlight, listeners, wyoming(config, runner, registry), voiceBus);
    }

    /**
     * Home Assistant's voice protocol, when the gateway serves transcription or speech: a port another program holds is
     * logged and Wyoming left out (the HTTP facades serve on); an address beyond loopback not allowed stops the start.
     */
    private static WyomingServer wyoming(GatewayConfig config, JobRunner runner, ModelRegistry registry) {
        boolean speech = config.models().containsValue(Kind.TRANSCRIPTION) || config.models().containsValue(Kind.SPEECH);
        if (!config.wyoming().enabled() || !speech) {
            return null;
        }
        try {
            return WyomingServer.start(config.wyoming(), runner, registry);
        } catch (java.io.IOException e) {
            log.warn("Wyoming is not offered: port {} on {} cannot be bound ({}); set gateway.wyoming_port, or -1 to leave it off",
                    config.wyoming().port(), config.wyoming().bind(), e.getMessage());
            return null;
        }
    }

    /** The port Home Assistant's voice protocol listens on, or -1 when it is not offered. */
    public int wyomingPort() {
        return wyoming == null ? -1 : wyoming.port();
    }

    private static byte[] secret(java.nio.file.Path file, String setting) {
        return file == null ? null : Secrets.read(file, setting).getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }

    static String notFound(String method, String path, spark.Response res) {
        JsonObject err = new JsonObject();
        err.addProperty("message", "no route " + method + " " + path);
        err.addProperty("type", "invalid_request_error");
        err.add("param", JsonNull.INSTANCE);
        err.addProperty("code", "not_found");
        JsonObject body = new JsonObject();
        body.add("error", err);
        return Json.respond(res, 404, body, Map.of());
    }

    private void awaitRequests(Duration limit) {
        long deadline = System.nanoTime() + limit.toNanos();
        try {
            while (inFlight.get() > 0 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            // Spark runs afterAfter filters before it writes a returned body; give the last one time to go out.
            Thread.sleep(100);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    public int port() {
        return http.port();
    }

    /** What each port the gateway was asked to listen on is doing: "listening" or why not. */
    public Map<Integer, String> ports() {
        return listeners.states();
    }

    public GatewayConfig config() {
        return config;
    }

    /**
     * Stops as a restart should: new requests get 503 + Retry-After, requests in progress get up to
     * {@code gateway.drain} to finish, callers still waiting then get 503 and their jobs are cancelled, and
     * only then does the listener close.
     */
    @Override
    public void close() {
        client.stopAccepting();
        if (inFlight.get() > 0) {
            log.info("stopping: {} request(s) in progress get up to {} to finish", inFlight.get(), config.drain());
        }
        awaitRequests(config.drain());
        if (client.cancelWaiting() > 0) {
            awaitRequests(Duration.ofSeconds(2));
        }
        if (wyoming != null) {
            wyoming.close();
        }
        if (voiceBus != null) {
            voiceBus.close();
        }
        listeners.close();
        bus.close();
        client.close();
    }
}
