package dev.axfleet.deploy.doctor;

import dev.axfleet.config.Settings;
import dev.axfleet.monitor.MonitorConfig;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * What doctor checks: the card in this Pi ({@link CardTarget}), or axfleet's emulator started by doctor itself
 * ({@link EmulatedTarget}). Either way the checks run the same adapters on the same kind of settings a worker or the
 * monitor reads; only the programs those settings name differ.
 */
sealed interface Target extends AutoCloseable permits CardTarget, EmulatedTarget {

    boolean emulated();

    /** One line for the report's header: what was checked. */
    String describe();

    /** The monitor's settings for the card (axcl-smi, modprobe, device node, the JNA library). */
    MonitorConfig monitor();

    /** The library JNA loads for libaxcl_rt. */
    String library() throws Verdict.Skip;

    /** The chat model's id, as a worker is named ({@code doctor.chat_model}). */
    String chatModel();

    /**
     * The settings a worker of the chat model reads ({@code axllm serve}), listening on {@code port}; {@code paced}: an
     * emulated runtime at a pace timing checks can measure (the card has its own).
     */
    Settings chatWorker(int port, boolean paced) throws Verdict.Skip;

    /** The vision model's id ({@code doctor.vision_model}): a VLM folder for {@code axllm serve}. */
    String visionModel();

    /** The vision model's folder. */
    Path visionModelDir() throws Verdict.Skip;

    /** The settings a worker of the vision model reads ({@code axllm serve}), listening on {@code port}. */
    Settings visionWorker(int port) throws Verdict.Skip;

    /** A second chat model's id ({@code doctor.second_model}), loaded beside the chat model (U30). */
    String secondModel();

    /** The settings a worker of the second chat model reads ({@code axllm serve}), listening on {@code port}. */
    Settings secondWorker(int port, boolean paced) throws Verdict.Skip;

    /** The Whisper model the asr_server checks start ({@code doctor.transcribe_model}). */
    String transcribeModel();

    /** SenseVoice's id ({@code doctor.sensevoice_model}). */
    String sensevoiceModel();

    /** Transcription model {@code id}'s folder as it was pulled (asr_server's {@code --model_path} when its layout is right: U34). */
    Path transcribeModelDir(String id) throws Verdict.Skip;

    /**
     * The settings a transcription worker of {@code id} reads: asr_server on {@code folder}, listening on {@code port};
     * {@code paced} as for {@link #chatWorker}.
     */
    Settings transcribeWorker(String id, Path folder, int port, boolean paced) throws Verdict.Skip;

    /** The speech model's id ({@code doctor.speech_model}): a StackFlow melotts mode, {@code -axcl} left off. */
    String speechModel();

    /**
     * The settings a speech worker of it reads: llm-sys's address and the mode. On the card M5Stack's services run llm-sys and
     * the unit; emulated, doctor starts them as such a service (the worker starts nothing either way); {@code paced} as for
     * {@link #chatWorker} (emulated, the service is started again at the other pace when asked for it).
     */
    Settings speechWorker(boolean paced) throws Verdict.Skip;

    /** What runs the melotts unit and restarts it (systemd's word on {@code llm-melotts}). */
    String speechService();

    /** The settings a worker of the legacy runtime reads (main_api and its tokenizer). */
    Settings legacyWorker() throws Verdict.Skip;

    /** The settings the image worker reads (SD1.5-LCM in-process). */
    Settings imageWorker() throws Verdict.Skip;

    /** The image model's folder. */
    Path imageModelDir() throws Verdict.Skip;

    /** The emulator's pace for paced runtimes (1 on the card: its own pace), to scale waits and deadlines. */
    double pace();

    /** The CMA lines of the host's /proc/meminfo. */
    String meminfo() throws Verdict.Skip;

    /** The host's kernel log (dmesg). */
    String kernelLog() throws Verdict.Skip;

    /** The card driver's kernel modules that are loaded, from the unload order's list (F22). */
    List<String> loadedModules() throws Verdict.Skip;

    /** The card on PCIe as lspci lists it, or why it cannot be said. */
    String pcie();

    /** Versions of everything involved, in the report's order. */
    Map<String, String> versions();

    /** Where doctor keeps what it makes (overlays, the picture, pid files). */
    Path stateDir();

    @Override
    void close();

    /** The driver's modules in the package's unload order (docs/hardware.md F22). */
    List<String> MODULES = List.of("ax_pcie_p2p_rc", "axcl_host", "ax_pcie_mmb", "ax_pcie_msg", "ax_pcie_host_dev");
}
