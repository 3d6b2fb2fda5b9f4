package dev.axfleet.deploy;

import dev.axfleet.broker.BrokerAddress;
import dev.axfleet.broker.Kind;
import dev.axfleet.broker.embedded.EmbeddedBroker;
import dev.axfleet.deploy.models.ModelCatalog;
import dev.axfleet.emulator.EmulatedModel;
import dev.axfleet.emulator.ModelProfile;
import dev.axfleet.emulator.card.EmulatedCard;
import dev.axfleet.emulator.image.EmulatedSdModel;
import dev.axfleet.gateway.CompatPort;
import dev.axfleet.gateway.Gateway;
import dev.axfleet.gateway.GatewayConfig;
import dev.axfleet.monitor.Monitor;
import dev.axfleet.monitor.MonitorConfig;
import dev.axfleet.worker.Worker;
import dev.axfleet.worker.WorkerConfig;
import dev.axfleet.worker.image.ClipTokenizer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The whole fleet in one process: a broker (embedded unless one is configured), a resident worker per
 * model, and the gateway. With the card present the workers run the manufacturer's runtimes from the
 * configuration; without it they run axfleet's emulator, and everything says so.
 */
public final class Fleet implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Fleet.class);
    /** The model name the coyote's AX650 mode sends (../shared/clients.md §5). */
    static final String LEGACY_MODEL_NAME = "qwen3-ax650";
    /** Where each emulated chat runtime listens, by model: its /_emulator/ routes tell tests what it was asked. */
    static final Map<String, Integer> EMULATED_RUNTIME_PORTS = new java.util.concurrent.ConcurrentHashMap<>();

    private final EmbeddedBroker broker;
    private final BrokerAddress address;
    private final List<Worker> workers;
    private final Gateway gateway;
    private final Monitor monitor;

    private Fleet(EmbeddedBroker broker, BrokerAddress address, List<Worker> workers, Gateway gateway, Monitor monitor) {
        this.broker = broker;
        this.address = address;
        this.workers = workers;
        this.gateway = gateway;
        this.monitor = monitor;
    }

    /**
     * The embedded broker (module broker-embedded, HiveMQ CE) is on {@code ./axfleet up}'s class path only: the
     * installed services' jar and lib/ do not hold it. Without it, {@code up} needs a broker of its own.
     */
    private static void requireEmbeddedBroker() {
        try {
            Class.forName("com.hivemq.embedded.EmbeddedHiveMQ", false, Fleet.class.getClassLoader());
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException("broker.url is not set and the embedded broker is not on the class path "
                    + "(it ships beside axfleet.jar in embedded-broker/, for ./axfleet up): set broker.url=mqtt://127.0.0.1:1883 "
                    + "to use the installed Mosquitto");
        }
    }

    public static Fleet start(FleetConfig config) {
        if (config.emulate()) {
            banner(config.cardPresent()
                    ? "EMULATED (fleet.emulate=true): the AX650 card is present but NOT used"
                    : "EMULATED: no AX650 card (" + FleetConfig.CARD_DEVICE + " missing) - answers come from axfleet's emulator");
        }
        EmbeddedBroker broker = null;
        BrokerAddress address;
        if (config.brokerUrl() != null) {
            address = BrokerAddress.parse(config.brokerUrl());
        } else {
            requireEmbeddedBroker();
            int port = config.embeddedBrokerPort();
            if (port != 0 && !free(port)) {
                int other = freePort();
                log.warn("port {} is taken (is Mosquitto running? then set broker.url=mqtt://127.0.0.1:{}); "
                        + "the embedded broker listens on {} instead", port, port, other);
                port = other;
            }
            broker = EmbeddedBroker.start("127.0.0.1", port == 0 ? freePort() : port, config.home().resolve("broker"),
                    config.embeddedBrokerPersistent());
            address = broker.address();
        }
        // Workers and gateway read the same broker URL as stand-alone processes would (credentials included).
        String brokerUrl = config.brokerUrl() != null ? config.brokerUrl() : "mqtt://" + address.host() + ":" + address.port();
        // Without the card, an emulated one: its axcl-smi and modprobe stand-ins serve the monitor, and the
        // emulated runtimes hold it, so the whole recovery path runs on any machine.
        EmulatedCard card = config.emulate() ? EmulatedCard.create(config.home().resolve("emulated-card")) : null;
        List<Worker> workers = new ArrayList<>();
        List<FleetConfig.Model> running = new ArrayList<>();
        for (FleetConfig.Model m : config.models()) {
            Optional<WorkerConfig> wc = switch (m.kind()) {
                case CHAT -> Optional.of(config.emulate() ? emulatedWorker(config, brokerUrl, m, "axllm-serve", card) : cardWorker(config, brokerUrl, m));
                case EMBEDDING -> Optional.of(config.emulate() ? emulatedWorker(config, brokerUrl, m, "axllm-serve-embeddings", card)
                        : cardWorker(config, brokerUrl, m));
                case IMAGE -> imageWorker(config, brokerUrl, m.id(), card);
                case TRANSCRIPTION -> Optional.of(config.emulate() ? emulatedAsrWorker(config, brokerUrl, m, card) : cardWorker(config, brokerUrl, m));
                case SPEECH -> Optional.of(config.emulate() ? emulatedTtsWorker(config, brokerUrl, m, card) : cardWorker(config, brokerUrl, m));
                case INTERROGATION -> {
                    log.warn("{}: interrogation runs on an image model's worker (its CLIP models); list the image model instead", m.id());
                    yield Optional.empty();
                }
            };
            wc.ifPresent(c -> {
                Worker w = new Worker(c, c.runtime().create());
                w.start();
                workers.add(w);
                running.add(m);
            });
        }
        String chat = config.models(Kind.CHAT).isEmpty() ? null : config.models(Kind.CHAT).get(0).id();
        Map<String, String> gatewaySettings = new HashMap<>(Map.of(
                "broker.url", brokerUrl,
                "gateway.models", running.stream().map(m -> m.id() + "=" + m.kind().wire()).collect(Collectors.joining(",")),
                "gateway.conversation_dir", config.settings().string("gateway.conversation_dir", config.home().resolve("conversations").toString())));
        if (!GatewayConfig.from(config.settings()).compatPorts().isEmpty() && chat != null) {
            // The coyote's AX650 mode asks for qwen3-ax650 and keeps its conversation on the server: name it so by default.
            gatewaySettings.put("gateway.aliases", config.settings().string("gateway.aliases", LEGACY_MODEL_NAME + "=" + chat));
            gatewaySettings.put("gateway.conversational_models", config.settings().string("gateway.conversational_models", LEGACY_MODEL_NAME));
            if (!config.emulate() && config.settings().string("runtime.kind", "axllm-serve").equals("main-api")) {
                gatewaySettings.put(CompatPort.LEGACY.setting(), "-1");
                log.warn("port 8000 is not offered by the gateway: the worker runs the legacy main_api runtime, which listens there itself "
                        + "(its own /api/* answer there); run runtime.kind=axllm-serve for axfleet's session API with kept conversations");
            }
        }
        Gateway gateway = Gateway.start(GatewayConfig.from(config.settings().with(gatewaySettings)));
        Monitor monitor = null;
        if (config.monitor()) {
            Map<String, String> emulatedCard = new HashMap<>(Map.of(
                    "broker.url", brokerUrl,
                    "monitor.axcl_smi", card == null ? "" : card.axclSmi().toString(),
                    "monitor.modprobe", card == null ? "" : card.modprobe().toString(),
                    "monitor.device_node", card == null ? "" : card.deviceNode().toString(),
                    "monitor.emulated", "true"));
            if (card != null && config.settings().string("monitor.probe", "axcl-smi").equals("libaxcl")) {
                emulatedCard.put("monitor.libaxcl", card.buildLibrary().toString()); // the emulated card's libaxcl_rt.so
            }
            monitor = new Monitor(MonitorConfig.from(config.emulate() ? config.settings().with(emulatedCard)
                    : config.settings().with(Map.of("broker.url", brokerUrl))));
            monitor.start();
        }
        Fleet fleet = new Fleet(broker, address, workers, gateway, monitor);
        fleet.summary(config);
        return fleet;
    }

    /**
     * A worker whose runtime is the emulator, configured through the same settings a worker on the Pi reads;
     * only the runtime's command differs.
     */
    private static WorkerConfig emulatedWorker(FleetConfig config, String brokerUrl, FleetConfig.Model m, String runtimeKind,
                                               EmulatedCard card) {
        String model = m.id();
        String modelName = m.name();
        Path modelDir = EmulatedModel.writeModelDir(config.home().resolve("emulated-models"), model, modelName);
        int port = freePort();
        EMULATED_RUNTIME_PORTS.put(model, port);
        String command = EmulatedModel.axllmServe(modelDir, port).stream().map(a -> "'" + a + "'").collect(Collectors.joining(" "));
        return WorkerConfig.from(config.settings().with(Map.of(
                "worker.model", model,
                "worker.id", "local-" + model,
                "worker.state_dir", config.home().resolve("worker-" + model).toString(),
                "broker.url", brokerUrl,
                "runtime.kind", runtimeKind,
                "runtime.model_dir", modelDir.toString(),
                "runtime.port", String.valueOf(port),
                "runtime.command", command,
                "runtime.cmm_mib", String.valueOf(ModelProfile.forName(modelName).cmmMiB()),
                "runtime.env", "AXFLEET_EMULATOR_TIME_SCALE=" + config.emulatorTimeScale() + " AXFLEET_EMULATOR_CARD='" + card.dir() + "'"
                        + sharedNpu(config) + " AXFLEET_EMULATOR_PREFIX_CACHE=" + (config.settings().bool("emulator.prefix_cache", true) ? "on" : "off")
                        // A fault of the emulated runtime from its start, for benchmarks and tests (emulator Fault): never a default.
                        + (config.settings().string("emulator.fault", "").isEmpty() ? ""
                                : " AXFLEET_EMULATOR_FAULT=" + config.settings().string("emulator.fault", "")))));
    }

    /** A transcription worker on the emulated asr_server (ax_asr_api), its models folder as download_models.sh leaves one. */
    private static WorkerConfig emulatedAsrWorker(FleetConfig config, String brokerUrl, FleetConfig.Model m, EmulatedCard card) {
        Path models = EmulatedModel.writeAsrModels(config.home().resolve("emulated-models").resolve(m.id()));
        int port = freePort();
        return WorkerConfig.from(config.settings().with(emulatedRuntime(config, brokerUrl, m, card, Map.of(
                "runtime.kind", "asr-server",
                "runtime.model_dir", models.toString(),
                "runtime.port", String.valueOf(port),
                "runtime.command", quoted(EmulatedModel.asrServer(models, port))))));
    }

    /** A speech worker on the emulated StackFlow llm_sys with its melotts unit and the model's mode installed. */
    private static WorkerConfig emulatedTtsWorker(FleetConfig config, String brokerUrl, FleetConfig.Model m, EmulatedCard card) {
        String mode = m.id() + "-axcl";
        Path modes = EmulatedModel.writeMelottsMode(config.home().resolve("emulated-models").resolve("stackflow"), mode);
        int port = freePort();
        return WorkerConfig.from(config.settings().with(emulatedRuntime(config, brokerUrl, m, card, Map.of(
                "runtime.kind", "stackflow-melotts",
                "runtime.mode", mode,
                "runtime.port", String.valueOf(port),
                "runtime.command", quoted(EmulatedModel.llmSys(modes, port))))));
    }

    /** The settings every emulated worker shares, with the runtime's own. */
    private static Map<String, String> emulatedRuntime(FleetConfig config, String brokerUrl, FleetConfig.Model m, EmulatedCard card,
                                                       Map<String, String> runtime) {
        Map<String, String> s = new HashMap<>(runtime);
        s.put("worker.model", m.id());
        s.put("worker.id", "local-" + m.id());
        s.put("worker.state_dir", config.home().resolve("worker-" + m.id()).toString());
        s.put("broker.url", brokerUrl);
        s.put("runtime.cmm_mib", String.valueOf(dev.axfleet.deploy.models.ModelCatalog.builtIn().find(m.id()).map(e -> e.cmmMib()).orElse(0)));
        s.put("runtime.env", "AXFLEET_EMULATOR_TIME_SCALE=" + config.emulatorTimeScale() + " AXFLEET_EMULATOR_CARD='" + card.dir() + "'"
                + sharedNpu(config));
        return s;
    }

    /**
     * The emulated runtimes share the emulated card's one NPU, taking turns (docs/hardware.md A29); {@code
     * emulator.shared_npu=false} gives each its own, for a benchmark's "what if the three did not contend".
     */
    private static String sharedNpu(FleetConfig config) {
        return " AXFLEET_EMULATOR_SHARED_NPU=" + (config.settings().bool("emulator.shared_npu", true) ? "on" : "off");
    }

    private static String quoted(List<String> command) {
        return command.stream().map(a -> "'" + a + "'").collect(Collectors.joining(" "));
    }

    /**
     * The image worker: SD1.5-LCM in-process through libaxcl_rt.so. Emulated, the emulated card's library (built with
     * cc) and an emulated model folder; on the card, the model folder from the settings. Skipped, with the reason,
     * when it cannot run here.
     */
    private static Optional<WorkerConfig> imageWorker(FleetConfig config, String brokerUrl, String model, EmulatedCard card) {
        Map<String, String> settings = new HashMap<>(Map.of(
                "worker.model", model,
                "worker.id", "local-" + model,
                "worker.state_dir", config.home().resolve("worker-" + model).toString(),
                "broker.url", brokerUrl,
                "runtime.kind", "sd15-lcm"));
        boolean upstream = config.settings().string("fleet.image_engine", "jna").equals("axllm-serve");
        if (upstream) {
            settings.put("runtime.kind", "axllm-serve-images");
        }
        if (config.emulate() && upstream) {
            Path modelDir = EmulatedModel.writeImageModelDir(config.home().resolve("emulated-models"), model);
            int port = freePort();
            settings.put("runtime.model_dir", modelDir.toString());
            settings.put("runtime.port", String.valueOf(port));
            settings.put("runtime.command", EmulatedModel.axllmServe(modelDir, port).stream().map(a -> "'" + a + "'").collect(Collectors.joining(" ")));
            settings.put("runtime.env", "AXFLEET_EMULATOR_TIME_SCALE=" + config.emulatorTimeScale());
        } else if (config.emulate()) {
            Path library;
            try {
                library = card.buildLibrary();
            } catch (RuntimeException e) {
                log.warn("no image worker: the emulated card's libaxcl_rt.so could not be built ({}); install gcc for the image routes",
                        e.getMessage());
                return Optional.empty();
            }
            Path modelDir = EmulatedSdModel.write(config.home().resolve("emulated-models").resolve(model), true, config.emulatorTimeScale());
            EmulatedSdModel.writeClip(modelDir, config.emulatorTimeScale());
            ClipTokenizer.writeFiles(modelDir.resolve("tokenizer"), List.of());
            settings.put("runtime.axcl_library", library.toString());
            settings.put("runtime.model_dir", modelDir.toString());
        } else {
            Path modelDir = Path.of(config.settings().string("fleet.image_model_dir", "/var/lib/axfleet/models/" + model));
            if (!Files.isDirectory(modelDir)) {
                log.warn("no image worker: {} is missing (axfleet models pull {}, or set fleet.image_model_dir)", modelDir, model);
                return Optional.empty();
            }
            settings.put("runtime.model_dir", modelDir.toString());
        }
        return Optional.of(WorkerConfig.from(ModelCatalog.builtIn().withFootprint(config.settings().with(settings), model)));
    }

    /**
     * A worker for the real card, configured like a stand-alone worker process (runtime.* settings); an embedding model
     * runs axllm serve in its embedding mode.
     */
    private static WorkerConfig cardWorker(FleetConfig config, String brokerUrl, FleetConfig.Model m) {
        Map<String, String> settings = new HashMap<>(Map.of(
                "worker.model", m.id(),
                "worker.state_dir", config.settings().string("worker.state_dir", config.home().resolve("worker-" + m.id()).toString()),
                "broker.url", brokerUrl));
        switch (m.kind()) {
            case EMBEDDING -> settings.put("runtime.kind", "axllm-serve-embeddings");
            case TRANSCRIPTION -> {
                // asr_server is ours to start, on a port of its own; its models folder holds whisper/SIZE/ or sensevoice/.
                // The runtime.* settings in the file are the chat model's: these workers get their own.
                settings.put("runtime.kind", "asr-server");
                settings.put("runtime.port", String.valueOf(freePort()));
                settings.put("runtime.command", "asr_server --port {port} --model_path {model_dir} --api_key {api_key}");
                settings.put("runtime.model_dir", config.settings().string("models.dir", "/var/lib/axfleet/models") + "/" + m.id());
            }
            case SPEECH -> {
                // StackFlow's llm-sys (systemd, M5Stack's packages) on its port 10001; the worker sets the unit up, starts nothing.
                settings.put("runtime.kind", "stackflow-melotts");
                settings.put("runtime.port", config.settings().string("fleet.stackflow_port", "10001"));
                settings.put("runtime.command", "");
            }
            default -> {
            }
        }
        return WorkerConfig.from(ModelCatalog.builtIn().withFootprint(config.settings().with(settings), m.id()));
    }

    private void summary(FleetConfig config) {
        String http = "http://" + gateway.config().bind() + ":" + gateway.port();
        log.info("axfleet is up{}", config.emulate() ? " - EMULATED, no card" : " on the AX650 card");
        log.info("  MQTT broker:   {}{}", address, broker != null ? " (embedded)" : "");
        log.info("  OpenAI API:    {}/v1  (chat: {})", http, ids(config, Kind.CHAT));
        if (!config.models(Kind.EMBEDDING).isEmpty()) {
            log.info("  embeddings:    {}/v1/embeddings, {}/api/embed  (models: {})", http, http, ids(config, Kind.EMBEDDING));
        }
        if (!config.models(Kind.TRANSCRIPTION).isEmpty()) {
            log.info("  transcribe:    {}/v1/audio/transcriptions  (models: {})", http, ids(config, Kind.TRANSCRIPTION));
        }
        if (!config.models(Kind.SPEECH).isEmpty()) {
            log.info("  speech:        {}/v1/audio/speech, voices at {}/v1/audio/voices  (models: {})", http, http, ids(config, Kind.SPEECH));
        }
        if (!config.models(Kind.IMAGE).isEmpty()) {
            log.info("  images:        {}/sdapi/v1/txt2img (AUTOMATIC1111), {}/generate, {}/v1/images/generations  (model: {})", http, http,
                    http, ids(config, Kind.IMAGE));
        }
        if (gateway.wyomingPort() >= 0) {
            log.info("  Home Assistant (Wyoming): tcp://{}:{}  (Settings > Devices & services > Add integration > Wyoming Protocol)",
                    gateway.config().wyoming().bind(), gateway.wyomingPort());
        }
        log.info("  health:        {}/health   metrics: {}/metrics", http, http);
        gateway.ports().forEach((port, state) -> {
            if (port != gateway.port()) {
                log.info("  classic port:  {} {}", port, state);
            }
        });
        if (monitor != null) {
            log.info("  card health:   mosquitto_sub -h {} -p {} -t 'axfleet/v1/cards/#' -v{}", address.host(), address.port(),
                    config.emulate() ? "   (EMULATED card)" : "");
        }
        String model = config.models(Kind.CHAT).isEmpty() ? config.models().get(0).id() : config.models(Kind.CHAT).get(0).id();
        log.info("  try:  curl {}/v1/chat/completions -H 'Content-Type: application/json' -d '{\"model\":\"{}\",\"messages\":[{\"role\":\"user\",\"content\":\"Hello\"}]}'",
                http, model);
        log.info("  or:   mosquitto_sub -h {} -p {} -t 'axfleet/v1/reply/me/#' -v &  mosquitto_pub -h {} -p {} -t axfleet/v1/jobs/{} -m '{\"id\":\"j1\",\"reply_to\":\"axfleet/v1/reply/me/j1\",\"params\":{\"prompt\":\"Hello\"}}'",
                address.host(), address.port(), address.host(), address.port(), model);
        log.info("  (the first answer comes once the model has loaded; watch {}/health)", http);
    }

    private static String ids(FleetConfig config, Kind kind) {
        return config.models(kind).stream().map(FleetConfig.Model::id).collect(Collectors.joining(", "));
    }

    public BrokerAddress brokerAddress() {
        return address;
    }

    public int gatewayPort() {
        return gateway.port();
    }

    /** The Wyoming port (Home Assistant's voice protocol), or -1 when it is not offered. */
    public int wyomingPort() {
        return gateway.wyomingPort();
    }

    @Override
    public void close() {
        if (monitor != null) {
            monitor.close();
        }
        gateway.close();
        workers.forEach(Worker::close);
        if (broker != null) {
            broker.close();
        }
    }

    private static void banner(String text) {
        String line = "*".repeat(Math.min(110, text.length() + 8));
        log.warn(line);
        log.warn("*** {} ***", text);
        log.warn(line);
    }

    private static boolean free(int port) {
        try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
