package dev.axfleet.deploy.doctor;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.axfleet.config.BuildInfo;
import dev.axfleet.config.Settings;
import dev.axfleet.monitor.MonitorConfig;
import dev.axfleet.monitor.probe.Tool;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The AX650 card in this Pi, as the installed services drive it: the settings of /etc/axfleet/axfleet.conf, the
 * manufacturer's programs, the model folders under {@code models.dir}.
 */
final class CardTarget implements Target {
    private final Settings settings;
    private final Path state;
    private final Path models;
    private final String chat;
    private final String image;
    private final String vision;
    private final String second;
    private final String transcribe;
    private final String sensevoice;
    private final String speech;

    CardTarget(Settings settings) {
        this.settings = settings;
        this.state = Path.of(settings.string("doctor.state_dir", "/var/lib/axfleet/doctor"));
        this.models = Path.of(settings.string("models.dir", "/var/lib/axfleet/models"));
        this.chat = settings.string("doctor.chat_model", "qwen3-1.7b");
        this.image = settings.string("doctor.image_model", "sd15-lcm");
        this.vision = settings.string("doctor.vision_model", "internvl3-1b");
        this.second = settings.string("doctor.second_model", "qwen3-0.6b");
        this.transcribe = settings.string("doctor.transcribe_model", "whisper-tiny");
        this.sensevoice = settings.string("doctor.sensevoice_model", "sensevoice");
        this.speech = settings.string("doctor.speech_model", "melotts-en-default");
    }

    @Override
    public boolean emulated() {
        return false;
    }

    @Override
    public String describe() {
        return "the AX650 card in this machine (" + monitor().deviceNode() + (Files.exists(monitor().deviceNode()) ? "" : ": missing") + ")";
    }

    @Override
    public MonitorConfig monitor() {
        return MonitorConfig.from(settings);
    }

    @Override
    public String library() {
        return settings.string("runtime.axcl_library", monitor().libaxcl());
    }

    @Override
    public String chatModel() {
        return chat;
    }

    Path modelDir(String id) throws Verdict.Skip {
        Path dir = models.resolve(id);
        if (!Files.isDirectory(dir)) {
            throw new Verdict.Skip("model " + id + " is not installed (" + dir + "): run doctor with --pull, or `sudo axfleet models pull " + id + "`");
        }
        return dir;
    }

    @Override
    public Settings chatWorker(int port, boolean paced) throws Verdict.Skip {
        return axllmWorker(chat, port);
    }

    @Override
    public String visionModel() {
        return vision;
    }

    @Override
    public Path visionModelDir() throws Verdict.Skip {
        return modelDir(vision);
    }

    @Override
    public Settings visionWorker(int port) throws Verdict.Skip {
        return axllmWorker(vision, port);
    }

    @Override
    public String secondModel() {
        return second;
    }

    @Override
    public Settings secondWorker(int port, boolean paced) throws Verdict.Skip {
        if (second.equals(chat)) {
            throw new Verdict.Skip("doctor.second_model is doctor.chat_model (" + chat + "): name another chat model, e.g. qwen3-0.6b");
        }
        return axllmWorker(second, port);
    }

    @Override
    public String transcribeModel() {
        return transcribe;
    }

    @Override
    public String sensevoiceModel() {
        return sensevoice;
    }

    @Override
    public Path transcribeModelDir(String id) throws Verdict.Skip {
        return modelDir(id);
    }

    /** As the fleet makes a transcription worker on the card (Fleet.cardWorker), with doctor's command line for asr_server. */
    @Override
    public Settings transcribeWorker(String id, Path folder, int port, boolean paced) throws Verdict.Skip {
        String command = settings.string("doctor.asr_command", "asr_server --port {port} --model_path {model_dir} --api_key {api_key}");
        String program = command.strip().split("\\s+")[0];
        if (!Host.onPath(program)) {
            throw new Verdict.Skip("asr_server is not installed (" + program + " is not on PATH): build it (bash build_ax8850_aarch64.sh in "
                    + "AXERA-TECH/ax_asr_api) and put it on PATH, or name it in doctor.asr_command");
        }
        return settings.with(Map.of(
                "worker.model", id,
                "worker.id", "doctor-" + id,
                "worker.state_dir", state.resolve("worker-" + id).toString(),
                "runtime.kind", "asr-server",
                "runtime.asr_model", id.replace('-', '_'),
                "runtime.model_dir", folder.toString(),
                "runtime.workdir", folder.toString(),
                "runtime.port", String.valueOf(port),
                "runtime.command", command));
    }

    @Override
    public String speechModel() {
        return speech;
    }

    /** As the fleet makes a speech worker on the card: llm-sys (M5Stack's systemd service) on fleet.stackflow_port, nothing started. */
    @Override
    public Settings speechWorker(boolean paced) {
        return settings.with(Map.of(
                "worker.model", speech,
                "worker.id", "doctor-" + speech,
                "worker.state_dir", state.resolve("worker-" + speech).toString(),
                "runtime.kind", "stackflow-melotts",
                "runtime.port", settings.string("fleet.stackflow_port", "10001"),
                "runtime.command", ""));
    }

    @Override
    public String speechService() {
        List<String> command = new ArrayList<>(List.of(settings.string("doctor.systemctl", "systemctl"), "show", "llm-melotts", "-p",
                "LoadState,ActiveState,SubState,MainPID,Restart,RestartUSec,NRestarts,FragmentPath"));
        Tool.Result r = Tool.run(command, null, Duration.ofSeconds(10));
        return r.startError() != null ? "systemctl cannot run: " + r.startError()
                : String.join(", ", r.output().strip().lines().toList()) + (r.ok() ? "" : " (exit " + r.exitCode() + ")");
    }

    /** A worker of model {@code id} under {@code axllm serve}, with this host's command line for it. */
    private Settings axllmWorker(String id, int port) throws Verdict.Skip {
        Path dir = modelDir(id);
        boolean axllm = settings.string("runtime.kind", "axllm-serve").equals("axllm-serve");
        return settings.with(Map.of(
                "worker.model", id,
                "worker.id", "doctor-" + id,
                "worker.state_dir", state.resolve("worker-" + id).toString(),
                "runtime.kind", "axllm-serve",
                "runtime.model_dir", dir.toString(),
                "runtime.workdir", dir.toString(),
                "runtime.port", String.valueOf(port),
                "runtime.command", axllm ? settings.string("runtime.command", "axllm serve {model_dir} --port {port}")
                        : "axllm serve {model_dir} --port {port}"));
    }

    @Override
    public Settings legacyWorker() throws Verdict.Skip {
        String command = settings.string("doctor.legacy_command", null);
        String dir = settings.string("doctor.legacy_dir", null);
        if (command == null || dir == null) {
            throw new Verdict.Skip("no legacy runtime named: set doctor.legacy_command (the main_api command line of the model's "
                    + "run_*_axcl_aarch64 script) and doctor.legacy_dir (the folder it runs in, with qwen3_tokenizer_uid.py)");
        }
        return settings.with(Map.of(
                "worker.model", "legacy",
                "worker.id", "doctor-legacy",
                "worker.state_dir", state.resolve("worker-legacy").toString(),
                "runtime.kind", "main-api",
                "runtime.model_dir", dir,
                "runtime.workdir", dir,
                "runtime.port", "8000",
                "runtime.command", command));
    }

    @Override
    public Settings imageWorker() throws Verdict.Skip {
        Path dir = imageModelDir();
        return settings.with(Map.of(
                "worker.model", image,
                "worker.id", "doctor-" + image,
                "worker.state_dir", state.resolve("worker-" + image).toString(),
                "runtime.kind", "sd15-lcm",
                "runtime.model_dir", dir.toString(),
                "runtime.axcl_library", library()));
    }

    @Override
    public Path imageModelDir() throws Verdict.Skip {
        return modelDir(image);
    }

    @Override
    public double pace() {
        return 1;
    }

    @Override
    public String meminfo() throws Verdict.Skip {
        try (Stream<String> lines = Files.lines(Path.of("/proc/meminfo"))) {
            return String.join("\n", lines.filter(l -> l.startsWith("Cma")).toList());
        } catch (IOException e) {
            throw new Verdict.Skip("cannot read /proc/meminfo: " + e.getMessage());
        }
    }

    @Override
    public String kernelLog() throws Verdict.Skip {
        Tool.Result r = Tool.run(List.of("dmesg"), null, Duration.ofSeconds(10));
        if (r.startError() != null || r.exitCode() != 0) {
            throw new Verdict.Skip("dmesg cannot be read (" + Tool.oneLine(r.output(), 100) + "): run doctor with sudo");
        }
        return r.output();
    }

    @Override
    public List<String> loadedModules() throws Verdict.Skip {
        try (Stream<String> lines = Files.lines(Path.of("/proc/modules"))) {
            List<String> loaded = lines.map(l -> l.split(" ", 2)[0]).toList();
            return MODULES.stream().filter(loaded::contains).toList();
        } catch (IOException e) {
            throw new Verdict.Skip("cannot read /proc/modules: " + e.getMessage());
        }
    }

    @Override
    public String pcie() {
        String all = Host.output(List.of("lspci", "-nn"), "");
        List<String> card = all.lines().filter(l -> l.toLowerCase(Locale.ROOT).contains("axera") || l.contains(":0650]")).toList();
        return all.isEmpty() ? "lspci gave nothing (is pciutils installed?)" : card.isEmpty() ? "" : String.join("; ", card);
    }

    @Override
    public Map<String, String> versions() {
        Map<String, String> v = new LinkedHashMap<>();
        v.put("board", Host.board());
        v.put("Raspberry Pi OS", Host.osRelease());
        v.put("kernel", Host.output(List.of("uname", "-rv"), System.getProperty("os.version")));
        v.put("axclhost package", Host.output(List.of("dpkg-query", "-W", "-f=${Version} (${db:Status-Abbrev})", "axclhost"), "not installed (dpkg-query)"));
        v.put("driver module axcl_host", moduleVersion());
        List<String> smi = new ArrayList<>(monitor().axclSmi());
        smi.add("-v");
        v.put("axcl-smi", Host.firstLine(Host.output(smi, "cannot run " + String.join(" ", monitor().axclSmi()))));
        v.put("axllm", Host.firstLine(Host.output(List.of("axllm", "version"), "axllm version gave nothing (not installed, or no version command)")));
        v.put("axfleet", BuildInfo.current().describe());
        v.put("Java", System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
        v.putAll(modelVersions(models));
        return v;
    }

    private static String moduleVersion() {
        for (String f : List.of("/sys/module/axcl_host/version", "/sys/module/axcl_host/srcversion")) {
            try {
                return Files.readString(Path.of(f)).strip() + " (" + f + ")";
            } catch (IOException e) {
                // The next one.
            }
        }
        return Files.isDirectory(Path.of("/sys/module/axcl_host")) ? "loaded (no version file)" : "not loaded";
    }

    /** Each folder under {@code models.dir}: the repository and revision it was pulled at, and its manifest's hash. */
    static Map<String, String> modelVersions(Path models) {
        Map<String, String> v = new LinkedHashMap<>();
        List<Path> dirs;
        try (Stream<Path> s = Files.list(models)) {
            dirs = s.filter(Files::isDirectory).sorted().toList();
        } catch (IOException e) {
            v.put("models", "none (" + models + " cannot be listed)");
            return v;
        }
        for (Path dir : dirs) {
            Path manifest = dir.resolve(".axfleet-manifest.json");
            String line;
            if (Files.isRegularFile(manifest)) {
                try {
                    JsonObject m = JsonParser.parseString(Files.readString(manifest)).getAsJsonObject();
                    line = m.get("repo").getAsString() + "@" + m.get("revision").getAsString() + ", " + m.getAsJsonArray("files").size()
                            + " files, manifest sha256 " + Host.sha256(manifest);
                } catch (IOException | RuntimeException e) {
                    line = "unreadable manifest (" + e.getMessage() + ")";
                }
            } else {
                Path config = dir.resolve("config.json");
                line = "not pulled by axfleet (no manifest)" + (Files.isRegularFile(config) ? ", config.json sha256 " + Host.sha256(config) : "");
            }
            v.put("model " + dir.getFileName(), line);
        }
        if (dirs.isEmpty()) {
            v.put("models", "none in " + models);
        }
        return v;
    }

    @Override
    public Path stateDir() {
        return state;
    }

    @Override
    public void close() {
    }
}
