package dev.axfleet.worker;

import dev.axfleet.broker.BrokerAddress;
import dev.axfleet.broker.CardRef;
import dev.axfleet.broker.Topics;
import dev.axfleet.config.Settings;
import dev.axfleet.worker.embed.AxllmEmbedRuntime;
import dev.axfleet.worker.image.Sd15Runtime;
import dev.axfleet.worker.runtime.AxllmImageRuntime;
import dev.axfleet.worker.runtime.AxllmServeRuntime;
import dev.axfleet.worker.runtime.MainApiRuntime;
import dev.axfleet.worker.runtime.ModelRuntime;
import dev.axfleet.broker.residency.KeepAlive;
import dev.axfleet.worker.residency.ResidencyConfig;
import dev.axfleet.worker.speech.StackFlowTtsRuntime;
import dev.axfleet.worker.transcribe.AsrServerRuntime;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Everything one worker process needs, read once at start from the config file and environment
 * ({@link Settings}) and printed by {@link #toString()}.
 *
 * @param defaultMaxTokens token limit for jobs that set none
 * @param sessionExpiry    how long the broker keeps this worker's queue while it is away
 * @param healthInterval   how often an idle worker probes its runtime (without side effects)
 * @param card             the card this worker's runtime runs on; its health (from the monitor) gates intake
 * @param cardStale        card health older than this is ignored (the monitor is gone; work goes on without it)
 * @param cmmMiB           the model's CMM footprint: the runtime is not started while the card has less free
 * @param contextOverflow  a conversation longer than the model's context: drop its oldest turns, or refuse it
 * @param residency        how the model is kept on the card beside others: pinned, preloaded, keep-alive, limits
 */
public record WorkerConfig(
        String model,
        String workerId,
        BrokerAddress broker,
        Path stateDir,
        int defaultMaxTokens,
        Duration sessionExpiry,
        Duration healthInterval,
        Duration loadTimeout,
        RuntimeSpec runtime,
        CardRef card,
        Duration cardStale,
        long cmmMiB,
        ContextOverflow contextOverflow,
        ResidencyConfig residency) {

    /** A worker kept resident for ever, as before models came and went ({@link ResidencyConfig#resident}). */
    public WorkerConfig(String model, String workerId, BrokerAddress broker, Path stateDir, int defaultMaxTokens, Duration sessionExpiry,
                        Duration healthInterval, Duration loadTimeout, RuntimeSpec runtime, CardRef card, Duration cardStale, long cmmMiB,
                        ContextOverflow contextOverflow) {
        this(model, workerId, broker, stateDir, defaultMaxTokens, sessionExpiry, healthInterval, loadTimeout, runtime, card, cardStale, cmmMiB,
                contextOverflow, ResidencyConfig.resident(stateDir));
    }

    public WorkerConfig {
        if (!Topics.isSegment(model)) {
            throw new IllegalArgumentException("worker.model must match [A-Za-z0-9._:-]{1,128}: " + model);
        }
        if (!Topics.isSegment(workerId)) {
            throw new IllegalArgumentException("worker.id must match [A-Za-z0-9._:-]{1,128}: " + workerId);
        }
    }

    /** Which runtime serves the model and how it is run. */
    public sealed interface RuntimeSpec permits AxllmServe, MainApi, Sd15Lcm, AxllmServeImages, AxllmServeEmbeddings, AsrServer, StackFlowTts {
        ModelRuntime create();

        /** The model's folder, which {@code axfleet models pull} fills. */
        Path folder();
    }

    /**
     * Why the runtime cannot start yet, said so a person knows what to do: the model's folder is missing (it was
     * never pulled); empty when nothing stands in the way.
     */
    public java.util.Optional<String> notInstalled() {
        Path folder = runtime.folder();
        if (folder == null || java.nio.file.Files.isDirectory(folder)) {
            return java.util.Optional.empty();
        }
        return java.util.Optional.of("model " + model + " is not installed: run `sudo axfleet models pull " + model + "` (" + folder
                + " does not exist)");
    }

    /** {@code axllm serve}: one process. */
    public record AxllmServe(AxllmServeRuntime.Config config) implements RuntimeSpec {
        @Override
        public ModelRuntime create() {
            return new AxllmServeRuntime(config);
        }

        @Override
        public Path folder() {
            return config.workDir();
        }
    }

    /** Legacy {@code main_api} plus its tokenizer server. */
    public record MainApi(MainApiRuntime.Config config) implements RuntimeSpec {
        @Override
        public ModelRuntime create() {
            return new MainApiRuntime(config);
        }

        @Override
        public Path folder() {
            return config.workDir();
        }
    }

    /** SD1.5-LCM in the worker's own process, through libaxcl_rt.so. */
    public record Sd15Lcm(Sd15Runtime.Config config) implements RuntimeSpec {
        @Override
        public ModelRuntime create() {
            return new Sd15Runtime(config);
        }

        @Override
        public Path folder() {
            return config.modelDir();
        }
    }

    /** {@code axllm serve} running the SD1.5-LCM repository, as an image upstream. */
    public record AxllmServeImages(AxllmServeRuntime.Config config, Duration requestTimeout) implements RuntimeSpec {
        @Override
        public ModelRuntime create() {
            return new AxllmImageRuntime(config, requestTimeout);
        }

        @Override
        public Path folder() {
            return config.workDir();
        }
    }

    /** {@code axllm serve} running an embedding model ({@code is_embedding} in its config.json). */
    public record AxllmServeEmbeddings(AxllmServeRuntime.Config config, Duration requestTimeout) implements RuntimeSpec {
        @Override
        public ModelRuntime create() {
            return new AxllmEmbedRuntime(config, requestTimeout);
        }

        @Override
        public Path folder() {
            return config.workDir();
        }
    }

    /** AXERA's {@code asr_server} (ax_asr_api) on a models folder holding {@code whisper/<size>/} or {@code sensevoice/}. */
    public record AsrServer(AsrServerRuntime.Config config, Path modelDir) implements RuntimeSpec {
        @Override
        public ModelRuntime create() {
            return new AsrServerRuntime(config);
        }

        @Override
        public Path folder() {
            return modelDir;
        }
    }

    /** StackFlow's melotts unit behind llm-sys (M5Stack's packages keep its model in /opt/m5stack/data: no folder of ours). */
    public record StackFlowTts(StackFlowTtsRuntime.Config config) implements RuntimeSpec {
        @Override
        public ModelRuntime create() {
            return new StackFlowTtsRuntime(config);
        }

        @Override
        public Path folder() {
            return null;
        }
    }

    /**
     * {@code axllm serve} started on an overlay of the model folder ({@link AxllmServeRuntime.Overlay}, in the state
     * folder): {@code {model_dir}} in the command names the overlay. The card is chosen twice, as the runtime reads it:
     * config.json's {@code devices} and {@code AXLLM_DEVICES} (docs/configuration.md, later revisions), both the card's
     * index in the device list.
     */
    private static AxllmServeRuntime.Config axllmServe(Settings s, String modelDir, int port, Map<String, String> env, Path workDir, Path state,
                                                       Duration stopGrace, Duration loadTimeout, Duration firstToken, Duration stall) {
        int card = s.integer("card.index", 0);
        Path overlay = state.resolve("axllm-model");
        Map<String, String> withCard = new java.util.LinkedHashMap<>(env);
        withCard.putIfAbsent("AXLLM_DEVICES", String.valueOf(card));
        return new AxllmServeRuntime.Config(
                CommandLine.parse(s.string("runtime.command", "axllm serve {model_dir} --port {port}"),
                        Map.of("model_dir", overlay.toString(), "port", String.valueOf(port))),
                withCard, port, workDir, state, stopGrace, loadTimeout, firstToken, stall,
                s.duration("runtime.probe_interval", Duration.ofMillis(250)),
                new AxllmServeRuntime.Overlay(Path.of(modelDir), overlay, card,
                        s.duration("runtime.server_timeout", Duration.ofMinutes(30))));
    }

    public static WorkerConfig from(Settings s) {
        String model = s.string("worker.model", null);
        if (model == null) {
            throw new IllegalArgumentException("worker.model is required (AXFLEET_WORKER_MODEL), e.g. qwen3-1.7b");
        }
        String id = s.string("worker.id", Settings.hostname() + "-" + model);
        Path state = Path.of(s.string("worker.state_dir", "/var/lib/axfleet/worker-" + model));
        BrokerAddress broker = BrokerAddress.parse(s.string("broker.url", "mqtt://127.0.0.1:1883"));
        String user = s.string("worker.mqtt_username", null);
        if (user != null) {
            broker = broker.withCredentials(user, s.string("worker.mqtt_password", null));
        }
        Duration stopGrace = s.duration("runtime.stop_grace", Duration.ofSeconds(10));
        Duration loadTimeout = s.duration("runtime.load_timeout", Duration.ofSeconds(300));
        Duration firstToken = s.duration("runtime.first_token_timeout", Duration.ofSeconds(60));
        Duration stall = s.duration("runtime.stall_timeout", Duration.ofSeconds(20));
        String modelDir = s.string("runtime.model_dir", "/var/lib/axfleet/models/" + model);
        Path workDir = Path.of(s.string("runtime.workdir", modelDir));
        int port = s.integer("runtime.port", 8000);
        String kind = s.string("runtime.kind", "axllm-serve");
        Map<String, String> env = environment(s.string("runtime.env", ""));
        RuntimeSpec spec = switch (kind) {
            case "axllm-serve" -> new AxllmServe(axllmServe(s, modelDir, port, env, workDir, state, stopGrace, loadTimeout, firstToken, stall));
            case "axllm-serve-images" -> new AxllmServeImages(axllmServe(s, modelDir, port, env, workDir, state, stopGrace, loadTimeout,
                    firstToken, stall), s.duration("runtime.call_timeout", Duration.ofSeconds(120)));
            case "axllm-serve-embeddings" -> new AxllmServeEmbeddings(axllmServe(s, modelDir, port, env, workDir, state, stopGrace, loadTimeout,
                    firstToken, stall), s.duration("runtime.call_timeout", Duration.ofSeconds(120)));
            case "main-api" -> {
                int tokenizerPort = s.integer("runtime.tokenizer_port", 12345);
                Map<String, String> ph = Map.of("model_dir", modelDir, "port", String.valueOf(port),
                        "tokenizer_port", String.valueOf(tokenizerPort));
                String command = s.string("runtime.command", null);
                if (command == null) {
                    throw new IllegalArgumentException("runtime.command is required for main-api: the command line of the "
                            + "model's run_*_axcl_aarch64 script (see docs/hardware.md)");
                }
                yield new MainApi(new MainApiRuntime.Config(
                        CommandLine.parse(command, ph),
                        CommandLine.parse(s.string("runtime.tokenizer_command",
                                "python3 qwen3_tokenizer_uid.py --host 127.0.0.1 --port {tokenizer_port}"), ph),
                        env, workDir, port, tokenizerPort, state, stopGrace, loadTimeout, firstToken, stall,
                        s.duration("runtime.poll_interval", Duration.ofMillis(200)),
                        s.duration("runtime.early_done_grace", Duration.ofSeconds(1)),
                        s.string("runtime.system_prompt", "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."),
                        MainApiRuntime.Sampling.SHIPPED));
            }
            case "sd15-lcm" -> new Sd15Lcm(new Sd15Runtime.Config(s.string("runtime.axcl_library", "axcl_rt"), s.integer("card.index", 0),
                    Path.of(modelDir), s.duration("runtime.call_timeout", Duration.ofSeconds(120))));
            case "asr-server" -> {
                String asrModel = s.string("runtime.asr_model", model.replace('-', '_'));
                yield new AsrServer(new AsrServerRuntime.Config(
                        CommandLine.parse(s.string("runtime.command", "asr_server --port {port} --model_path {model_dir} --api_key {api_key}"),
                                Map.of("model_dir", modelDir, "port", String.valueOf(port), "api_key", "{api_key}")),
                        env, port, workDir, state, stopGrace, loadTimeout, s.duration("runtime.probe_interval", Duration.ofMillis(250)), asrModel,
                        s.duration("runtime.call_timeout", Duration.ofSeconds(120)),
                        // Whisper's mel holds 30 s (whisper.cpp WHISPER_FRAME_NUM 3000); SenseVoice slices by itself, 30 s keeps timestamps useful.
                        s.decimal("runtime.window_seconds", 30.0)), Path.of(modelDir));
            }
            case "stackflow-melotts" -> {
                String mode = s.string("runtime.mode", model + "-axcl");
                String command = s.string("runtime.command", "");
                int sysPort = s.integer("runtime.port", 10001);
                yield new StackFlowTts(new StackFlowTtsRuntime.Config(command.isBlank() ? List.of()
                        : CommandLine.parse(command, Map.of("port", String.valueOf(sysPort), "model_dir", modelDir)), env,
                        s.string("runtime.host", "127.0.0.1"), sysPort, s.string("runtime.workdir", null) == null ? null
                        : Path.of(s.string("runtime.workdir", null)), state, stopGrace, loadTimeout,
                        s.duration("runtime.probe_interval", Duration.ofMillis(250)), mode,
                        s.string("runtime.voice", mode.replaceFirst("^melotts[-_]", "").replaceFirst("-(axcl|ax650)$", "")),
                        s.duration("runtime.call_timeout", Duration.ofSeconds(60)), s.string("runtime.process_name", "llm_melotts")));
            }
            default -> throw new IllegalArgumentException("runtime.kind must be axllm-serve, main-api, sd15-lcm, axllm-serve-images, "
                    + "axllm-serve-embeddings, asr-server or stackflow-melotts, not " + kind);
        };
        return new WorkerConfig(model, id, broker, state,
                s.integer("worker.default_max_tokens", 512),
                s.duration("worker.session_expiry", Duration.ofDays(1)),
                s.duration("worker.health_interval", Duration.ofSeconds(5)),
                loadTimeout, spec,
                new CardRef(s.string("card.host", Settings.hostname()), s.integer("card.index", 0)),
                s.duration("worker.card_stale", Duration.ofSeconds(20)),
                s.integer("runtime.cmm_mib", 0),
                overflow(s.string("worker.context_overflow", "truncate")),
                residency(s, model, state));
    }

    /**
     * The settings every worker of a host shares about which models stay on the card (docs/configuration.md): models.pinned,
     * models.preload (unset: every model), models.keep_alive (forever, the default, or -1; a number of seconds or a duration
     * such as 10m, as OLLAMA_KEEP_ALIVE reads it: envconfig/config.go@fb30760:129), models.max_loaded_models, models.margin_mib; worker.card_lock beside the workers' state folders.
     */
    private static ResidencyConfig residency(Settings s, String model, Path state) {
        String preload = s.string("models.preload", null);
        String keep = s.string("models.keep_alive", "forever").trim();
        KeepAlive keepAlive;
        try {
            keepAlive = keep.equals("forever") ? KeepAlive.FOREVER : keep.matches("-?\\d+(\\.\\d+)?") ? KeepAlive.seconds(new java.math.BigDecimal(keep)) : KeepAlive.parse(keep);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("models.keep_alive: " + e.getMessage());
        }
        int max = s.integer("models.max_loaded_models", 0);
        if (max < 0) {
            throw new IllegalArgumentException("models.max_loaded_models must be 0 (as many as fit) or more, not " + max);
        }
        Path parent = state.toAbsolutePath().getParent();
        Path lock = Path.of(s.string("worker.card_lock", (parent == null ? state.toAbsolutePath() : parent)
                .resolve("card-" + s.integer("card.index", 0) + ".lock").toString()));
        return new ResidencyConfig(list(s.string("models.pinned", "")).contains(model), preload == null || list(preload).contains(model),
                keepAlive, max, s.integer("models.margin_mib", 256), lock, s.duration("models.evict_wait", Duration.ofSeconds(60)));
    }

    private static List<String> list(String value) {
        return java.util.Arrays.stream(value.split(",")).map(String::trim).filter(x -> !x.isEmpty()).toList();
    }

    /** What a worker does with a conversation longer than the model's context. */
    public enum ContextOverflow {
        /** Drop the oldest turns after the system messages, and say how many in the result. */
        TRUNCATE,
        /** Refuse with context_length_exceeded. */
        REJECT
    }

    private static ContextOverflow overflow(String value) {
        return switch (value) {
            case "truncate" -> ContextOverflow.TRUNCATE;
            case "reject" -> ContextOverflow.REJECT;
            default -> throw new IllegalArgumentException("worker.context_overflow must be truncate or reject, not " + value);
        };
    }

    /** {@code runtime.env}: extra environment for the runtime, as {@code NAME=value NAME2=value2}. */
    private static Map<String, String> environment(String spec) {
        Map<String, String> env = new java.util.LinkedHashMap<>();
        for (String word : CommandLine.parse(spec, Map.of())) {
            int eq = word.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("runtime.env entries must look like NAME=value: " + word);
            }
            env.put(word.substring(0, eq), word.substring(eq + 1));
        }
        return env;
    }

    /** The settings in force, one per line, for the start-up log. */
    public List<String> describe() {
        return List.of(
                "worker.model=" + model,
                "worker.id=" + workerId,
                "broker.url=" + broker,
                "worker.state_dir=" + stateDir,
                "worker.default_max_tokens=" + defaultMaxTokens,
                "worker.session_expiry=" + sessionExpiry,
                "worker.context_overflow=" + contextOverflow.name().toLowerCase(java.util.Locale.ROOT),
                "card=" + card + " (health older than " + cardStale + " is ignored)",
                "runtime.cmm_mib=" + (cmmMiB > 0 ? cmmMiB : "0 (unknown: free CMM is not checked before start)"),
                "residency: " + residency,
                "runtime=" + runtime);
    }
}
