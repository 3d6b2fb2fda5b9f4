package dev.axfleet.deploy.doctor;

import dev.axfleet.config.BuildInfo;
import dev.axfleet.config.Settings;
import dev.axfleet.emulator.EmulatedModel;
import dev.axfleet.emulator.TestFault;
import dev.axfleet.emulator.card.EmulatedCard;
import dev.axfleet.emulator.image.EmulatedSdModel;
import dev.axfleet.monitor.MonitorConfig;
import dev.axfleet.worker.image.ClipTokenizer;
import dev.axfleet.worker.runtime.RuntimeProcess;
import dev.axfleet.worker.runtime.RuntimeStartException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * axfleet's emulator, started by doctor itself: an emulated card (its axcl-smi and modprobe stand-ins, its libaxcl_rt.so
 * built with cc), emulated model folders, and the emulated runtimes started by the same settings a worker reads. Every
 * figure it gives is the emulator's; the report says so everywhere. Test-only faults ({@link TestFault}) make it behave
 * as an item's wrong reading would.
 */
final class EmulatedTarget implements Target {
    static final String CHAT_MODEL = "qwen3-0.6b";
    static final String CHAT_NAME = "Qwen3-0.6B";
    static final String IMAGE_MODEL = "sd15-lcm";
    static final String VISION_MODEL = "internvl3-1b";
    static final String VISION_NAME = "InternVL3-1B";
    static final String SECOND_MODEL = "qwen3-1.7b";
    static final String SECOND_NAME = "Qwen3-1.7B";
    static final String TRANSCRIBE_MODEL = "whisper-tiny";
    static final String SENSEVOICE_MODEL = "sensevoice";
    static final String SPEECH_MODEL = "melotts-en-default";

    private final Settings settings;
    private final Path home;
    private final EmulatedCard card;
    private final double timeScale;
    private final double paced;
    private final Set<TestFault> faults;
    private final Path chatDir;
    private final Path visionDir;
    private final Path imageDir;
    private final Path legacyDir;
    private final Path secondDir;
    private final Path asrDir;
    private final Path stackflowModes;
    /** The emulated llm_sys with its melotts unit, started once as the card's systemd services would be. */
    private RuntimeProcess stackflow;
    private int stackflowPort;
    private double stackflowScale;
    private Path library;
    private String libraryError;

    EmulatedTarget(Settings settings, Set<TestFault> faults) {
        this.settings = settings;
        this.faults = Set.copyOf(faults);
        try {
            String dir = settings.string("doctor.state_dir", null);
            home = dir != null ? Files.createDirectories(Path.of(dir)).resolve("emulated") : Files.createTempDirectory("axfleet-doctor-");
            Files.createDirectories(home);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot make the emulator's folder: " + e.getMessage(), e);
        }
        this.timeScale = settings.decimal("doctor.time_scale", 0.05);
        // Checks that time the runtime's pace need one to time: a fifth of the card's at least (a token of Qwen3-0.6B in
        // 15 ms, a prefill chunk in 134 ms), well above this machine's scheduling noise.
        this.paced = Math.max(timeScale, 0.2);
        card = EmulatedCard.create(home.resolve("card"));
        card.setLoad(37, 12);
        card.testFaults(faults);
        chatDir = EmulatedModel.writeModelDir(home.resolve("models"), CHAT_MODEL, CHAT_NAME);
        // A VLM folder as F40 reads it: vlm_type, the encoder's file name, the vision size (VisionProfile's).
        visionDir = EmulatedModel.writeModelDir(home.resolve("models"), VISION_MODEL, VISION_NAME);
        imageDir = EmulatedSdModel.write(home.resolve("models").resolve(IMAGE_MODEL), true, timeScale);
        EmulatedSdModel.writeClip(imageDir, timeScale);
        ClipTokenizer.writeFiles(imageDir.resolve("tokenizer"), List.of());
        legacyDir = home.resolve("models").resolve("legacy");
        try {
            Files.createDirectories(legacyDir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        TestFault.applyToModels(faults, chatDir, imageDir);
        secondDir = EmulatedModel.writeModelDir(home.resolve("models"), SECOND_MODEL, SECOND_NAME);
        // One folder as ax_asr_api's download_models.sh leaves it (whisper/SIZE/, sensevoice/) for every transcription model.
        asrDir = EmulatedModel.writeAsrModels(home.resolve("models").resolve("asr"));
        TestFault.applyToAsrModels(faults, asrDir);
        stackflowModes = EmulatedModel.writeMelottsMode(home.resolve("models").resolve("stackflow"), SPEECH_MODEL + "-axcl");
    }

    @Override
    public boolean emulated() {
        return true;
    }

    @Override
    public String describe() {
        return "EMULATED: axfleet's emulator, started by doctor in " + home + " (time scale " + timeScale + ", paced checks " + paced
                + (faults.isEmpty() ? "" : "; TEST FAULTS " + faults) + "): no card was used";
    }

    Set<TestFault> faults() {
        return faults;
    }

    EmulatedCard card() {
        return card;
    }

    @Override
    public MonitorConfig monitor() {
        Map<String, String> m = new LinkedHashMap<>(Map.of(
                "monitor.axcl_smi", card.axclSmi().toString(),
                "monitor.modprobe", card.modprobe().toString(),
                "monitor.device_node", card.deviceNode().toString(),
                "monitor.emulated", "true"));
        if (library != null) {
            m.put("monitor.libaxcl", library.toString());
        }
        return MonitorConfig.from(settings.with(m));
    }

    @Override
    public synchronized String library() throws Verdict.Skip {
        if (library == null && libraryError == null) {
            try {
                library = card.buildLibrary();
            } catch (RuntimeException e) {
                libraryError = "the emulated libaxcl_rt.so could not be built (it needs a C compiler, cc): " + e.getMessage();
            }
        }
        if (library == null) {
            throw new Verdict.Skip(libraryError);
        }
        return library.toString();
    }

    @Override
    public String chatModel() {
        return CHAT_MODEL;
    }

    private String env(double scale) {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("AXFLEET_EMULATOR_TIME_SCALE", String.valueOf(scale));
        env.put("AXFLEET_EMULATOR_CARD", card.dir().toString());
        env.putAll(TestFault.environment(faults));
        return env.entrySet().stream().map(e -> e.getKey() + "=" + Host.quote(e.getValue())).collect(Collectors.joining(" "));
    }

    private static String emulator(String program) {
        return EmulatedModel.javaCommand().stream().map(Host::quote).collect(Collectors.joining(" ")) + " " + program;
    }

    @Override
    public Settings chatWorker(int port, boolean paced) {
        return axllmWorker(CHAT_MODEL, chatDir, port, paced ? this.paced : timeScale);
    }

    @Override
    public String visionModel() {
        return VISION_MODEL;
    }

    @Override
    public Path visionModelDir() {
        return visionDir;
    }

    @Override
    public Settings visionWorker(int port) {
        return axllmWorker(VISION_MODEL, visionDir, port, timeScale);
    }

    @Override
    public String secondModel() {
        return SECOND_MODEL;
    }

    @Override
    public Settings secondWorker(int port, boolean paced) {
        return axllmWorker(SECOND_MODEL, secondDir, port, paced ? this.paced : timeScale);
    }

    @Override
    public String transcribeModel() {
        return TRANSCRIBE_MODEL;
    }

    @Override
    public String sensevoiceModel() {
        return SENSEVOICE_MODEL;
    }

    @Override
    public Path transcribeModelDir(String id) {
        return asrDir;
    }

    /** As the fleet makes an emulated transcription worker (Fleet.emulatedAsrWorker). */
    @Override
    public Settings transcribeWorker(String id, Path folder, int port, boolean paced) {
        return settings.with(Map.of(
                "worker.model", id,
                "worker.id", "doctor-" + id,
                "worker.state_dir", home.resolve("worker-" + id).toString(),
                "runtime.kind", "asr-server",
                "runtime.asr_model", id.replace('-', '_'),
                "runtime.model_dir", folder.toString(),
                "runtime.workdir", folder.toString(),
                "runtime.port", String.valueOf(port),
                "runtime.command", EmulatedModel.asrServer(folder, port).stream().map(Host::quote).collect(Collectors.joining(" ")),
                "runtime.env", env(paced ? this.paced : timeScale)));
    }

    @Override
    public String speechModel() {
        return SPEECH_MODEL;
    }

    /** As the card's speech worker: llm-sys on its port, started here as M5Stack's services are there, the worker starting nothing. */
    @Override
    public synchronized Settings speechWorker(boolean paced) throws Verdict.Skip {
        double scale = paced ? this.paced : timeScale;
        if (stackflow != null && stackflowScale != scale) {
            stackflow.stop();
            stackflow = null;
        }
        if (stackflow == null) {
            int port = Host.freePort();
            Map<String, String> env = new LinkedHashMap<>();
            env.put("AXFLEET_EMULATOR_TIME_SCALE", String.valueOf(scale));
            env.put("AXFLEET_EMULATOR_CARD", card.dir().toString());
            env.putAll(TestFault.environment(faults));
            RuntimeProcess p = new RuntimeProcess("llm_sys", EmulatedModel.llmSysNamed(stackflowModes, port, home.resolve("bin"),
                    TestFault.unitProcessName(faults)), home, env, home.resolve("llm_sys.pid"), java.time.Duration.ofSeconds(5),
                    java.time.Duration.ofSeconds(30));
            try {
                p.start();
            } catch (RuntimeStartException e) {
                throw new Verdict.Skip("the emulated llm_sys did not start: " + e.getMessage());
            }
            stackflow = p;
            stackflowPort = port;
            stackflowScale = scale;
        }
        return settings.with(Map.of(
                "worker.model", SPEECH_MODEL,
                "worker.id", "doctor-" + SPEECH_MODEL,
                "worker.state_dir", home.resolve("worker-" + SPEECH_MODEL).toString(),
                "runtime.kind", "stackflow-melotts",
                "runtime.host", "127.0.0.1",
                "runtime.port", String.valueOf(stackflowPort),
                "runtime.command", ""));
    }

    @Override
    public synchronized String speechService() {
        return "EMULATED: no systemd here; doctor started the emulated llm_sys with its melotts unit as pid "
                + (stackflow == null ? "(not started)" : stackflow.pid()) + " (on the card: systemctl show llm-melotts)";
    }

    private Settings axllmWorker(String id, Path dir, int port, double scale) {
        return settings.with(Map.of(
                "worker.model", id,
                "worker.id", "doctor-" + id,
                "worker.state_dir", home.resolve("worker-" + id).toString(),
                "runtime.kind", "axllm-serve",
                "runtime.model_dir", dir.toString(),
                "runtime.workdir", dir.toString(),
                "runtime.port", String.valueOf(port),
                "runtime.command", emulator("axllm serve {model_dir} --port {port}"),
                "runtime.env", env(scale)));
    }

    @Override
    public Settings legacyWorker() {
        int port = Host.freePort();
        int tokenizer = Host.freePort();
        List<String> mainApi = EmulatedModel.mainApi(CHAT_NAME, tokenizer);
        List<String> tokenizerCommand = EmulatedModel.tokenizer(tokenizer);
        return settings.with(Map.ofEntries(
                Map.entry("worker.model", "legacy"),
                Map.entry("worker.id", "doctor-legacy"),
                Map.entry("worker.state_dir", home.resolve("worker-legacy").toString()),
                Map.entry("runtime.kind", "main-api"),
                Map.entry("runtime.model_dir", legacyDir.toString()),
                Map.entry("runtime.workdir", legacyDir.toString()),
                Map.entry("runtime.port", String.valueOf(port)),
                Map.entry("runtime.tokenizer_port", String.valueOf(tokenizer)),
                Map.entry("runtime.command", mainApi.stream().map(Host::quote).collect(Collectors.joining(" "))),
                Map.entry("runtime.tokenizer_command", tokenizerCommand.stream().map(Host::quote).collect(Collectors.joining(" "))),
                Map.entry("runtime.env", env(timeScale) + " AXFLEET_EMULATOR_PORT=" + port)));
    }

    @Override
    public Settings imageWorker() throws Verdict.Skip {
        return settings.with(Map.of(
                "worker.model", IMAGE_MODEL,
                "worker.id", "doctor-" + IMAGE_MODEL,
                "worker.state_dir", home.resolve("worker-" + IMAGE_MODEL).toString(),
                "runtime.kind", "sd15-lcm",
                "runtime.model_dir", imageDir.toString(),
                "runtime.axcl_library", library()));
    }

    @Override
    public Path imageModelDir() {
        return imageDir;
    }

    @Override
    public double pace() {
        return paced;
    }

    @Override
    public String meminfo() {
        return card.hostMeminfo().strip();
    }

    @Override
    public String kernelLog() {
        return card.kernelLog();
    }

    @Override
    public List<String> loadedModules() {
        return card.driverLoaded() ? MODULES : List.of();
    }

    @Override
    public String pcie() {
        return "0001:01:00.0 Processing accelerators [1200]: emulated AX650N (axfleet's emulated card, not on PCIe)";
    }

    @Override
    public Map<String, String> versions() {
        Map<String, String> v = new LinkedHashMap<>();
        v.put("board", "EMULATED (this machine: " + Host.board() + ")");
        v.put("Raspberry Pi OS", "EMULATED (this machine: " + Host.osRelease() + ")");
        v.put("kernel", Host.output(List.of("uname", "-rv"), System.getProperty("os.version")) + " (this machine)");
        v.put("axclhost package", "none: EMULATED card");
        v.put("driver module axcl_host", "none: EMULATED card");
        v.put("axcl-smi", Host.firstLine(Host.output(List.of(card.axclSmi().toString(), "-v"), "the emulated axcl-smi gave nothing")));
        List<String> axllm = new ArrayList<>(EmulatedModel.javaCommand());
        axllm.addAll(List.of("axllm", "version"));
        v.put("axllm", Host.firstLine(Host.output(axllm, "the emulated axllm gave nothing")));
        v.put("axfleet", BuildInfo.current().describe());
        v.put("Java", System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
        v.put("model " + CHAT_MODEL, "EMULATED folder " + chatDir + ", config.json sha256 " + Host.sha256(chatDir.resolve("config.json")));
        v.put("model " + VISION_MODEL, "EMULATED folder " + visionDir + ", config.json sha256 " + Host.sha256(visionDir.resolve("config.json")));
        v.put("model " + IMAGE_MODEL, "EMULATED folder " + imageDir + ", unet.axmodel sha256 " + Host.sha256(imageDir.resolve("unet.axmodel")));
        v.put("model " + SECOND_MODEL, "EMULATED folder " + secondDir + ", config.json sha256 " + Host.sha256(secondDir.resolve("config.json")));
        v.put("models " + TRANSCRIBE_MODEL + ", " + SENSEVOICE_MODEL, "EMULATED asr_server folder " + asrDir + " (placeholders, no weights)");
        v.put("model " + SPEECH_MODEL, "EMULATED StackFlow mode file in " + stackflowModes);
        return v;
    }

    @Override
    public Path stateDir() {
        return home;
    }

    @Override
    public synchronized void close() {
        if (stackflow != null) {
            stackflow.stop();
            stackflow = null;
        }
        try {
            // The link to java that named the emulated unit (a test's temporary folder would warn about it).
            Files.deleteIfExists(home.resolve("bin").resolve(TestFault.unitProcessName(faults)));
        } catch (IOException e) {
            // Left behind: harmless.
        }
    }
}
