package dev.axfleet.deploy.doctor;

import dev.axfleet.config.Settings;
import dev.axfleet.monitor.MonitorConfig;
import dev.axfleet.monitor.probe.SmiProbe;
import dev.axfleet.monitor.probe.Tool;
import dev.axfleet.worker.WorkerConfig;
import dev.axfleet.worker.chat.ChatRunner;
import dev.axfleet.worker.image.Sd15Runtime;
import dev.axfleet.worker.runtime.AxllmServeRuntime;
import dev.axfleet.worker.runtime.MainApiRuntime;
import dev.axfleet.worker.runtime.ModelRuntime;
import dev.axfleet.worker.runtime.RuntimeStartException;
import dev.axfleet.worker.speech.StackFlowTtsRuntime;
import dev.axfleet.worker.transcribe.AsrServerRuntime;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What a check works with: the {@link Target}, the settings, the runtimes (started from a worker's own settings through
 * {@link WorkerConfig}, so exactly as a worker starts them), axcl-smi, and the evidence it writes down for the report.
 * A runtime several checks share is started once; one a check starts for itself is stopped when that check ends.
 */
final class Lab implements AutoCloseable {
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2)).build();

    private final Target target;
    private final Settings settings;
    private final List<String> evidence = new ArrayList<>();
    private final Deque<AutoCloseable> afterCheck = new ArrayDeque<>();
    private final AtomicInteger fresh = new AtomicInteger();
    private AxllmServeRuntime chat;
    private boolean chatPaced;
    private long chatLoadMillis;
    private int chatPort;
    private Sd15Runtime image;
    private int legacyPort;
    /** Why a shared runtime did not start: the checks after the first do not wait for it again. */
    private String chatFailure;
    private String imageFailure;

    Lab(Target target, Settings settings) {
        this.target = target;
        this.settings = settings;
    }

    Target target() {
        return target;
    }

    Settings settings() {
        return settings;
    }

    boolean emulated() {
        return target.emulated();
    }

    MonitorConfig monitor() {
        return target.monitor();
    }

    // ---- evidence ----

    /** A line of what the check saw, for the report. */
    synchronized void note(String line) {
        evidence.add(line);
    }

    /** A tool's or runtime's output under a title, at most 40 lines of it. */
    synchronized void output(String title, String text) {
        evidence.add(title + ":");
        List<String> lines = text == null ? List.of() : text.strip().lines().toList();
        int from = Math.max(0, lines.size() - 40);
        if (from > 0) {
            evidence.add("    ... (" + from + " lines before)");
        }
        lines.subList(from, lines.size()).forEach(l -> evidence.add("    " + l));
    }

    synchronized List<String> takeEvidence() {
        List<String> out = List.copyOf(evidence);
        evidence.clear();
        return out;
    }

    /** Stops what the check started for itself. */
    void endCheck() {
        while (!afterCheck.isEmpty()) {
            try {
                afterCheck.pop().close();
            } catch (Exception e) {
                note("(closing: " + e + ")");
            }
        }
    }

    void closeAfterCheck(AutoCloseable c) {
        afterCheck.push(c);
    }

    // ---- runtimes ----

    /**
     * The chat model's {@code axllm serve}, started once and shared; {@code paced}: at a pace timing checks can measure
     * (the card's own; emulated, slower than the rest of the run). Asking for the other pace restarts it.
     */
    AxllmServeRuntime chat(boolean paced) throws Verdict.Skip, RuntimeStartException {
        if (chat != null && (chatPaced == paced || !emulated()) && chat.healthy()) {
            return chat;
        }
        if (chatFailure != null) {
            throw new Verdict.Skip("axllm serve did not start earlier in this run (U1): " + chatFailure);
        }
        releaseChat();
        int port = Host.freePort();
        AxllmServeRuntime r = (AxllmServeRuntime) create(target.chatWorker(port, paced));
        long t0 = System.nanoTime();
        try {
            r.start(loadTimeout());
        } catch (RuntimeStartException e) {
            r.close();
            chatFailure = Host.firstLine(e.getMessage());
            throw e;
        }
        chatLoadMillis = (System.nanoTime() - t0) / 1_000_000;
        chat = r;
        chatPaced = paced;
        chatPort = port;
        return r;
    }

    /** How long the shared chat runtime took from start to ready. */
    long chatLoadMillis() {
        return chatLoadMillis;
    }

    int chatPort() {
        return chatPort;
    }

    /**
     * A chat runtime of the check's own, with {@code extra} settings over the worker's (e.g. {@code runtime.server_timeout});
     * the shared one is stopped first, so the card holds one model's CMM at a time; {@code moreEnv}: variables added to
     * {@code runtime.env}. Not started; stopped after the check.
     */
    AxllmServeRuntime freshChat(Map<String, String> extra, String moreEnv, boolean paced) throws Verdict.Skip {
        releaseChat();
        int port = Host.freePort();
        Settings s = target.chatWorker(port, paced);
        Map<String, String> more = new java.util.HashMap<>(extra);
        if (!moreEnv.isEmpty()) {
            more.put("runtime.env", (s.string("runtime.env", "") + " " + moreEnv).strip());
        }
        more.putIfAbsent("worker.state_dir", s.string("worker.state_dir", "") + "-" + fresh.incrementAndGet());
        more.put("runtime.port", String.valueOf(port));
        AxllmServeRuntime r = (AxllmServeRuntime) create(s.with(more));
        closeAfterCheck(r);
        return r;
    }

    /**
     * The vision model's {@code axllm serve}, of the check's own, from a worker's settings for it; the shared runtimes are
     * stopped first, so the card holds this model alone (its remain_cmm is its own). Not started; stopped after the check.
     */
    AxllmServeRuntime vision() throws Verdict.Skip {
        releaseAll();
        AxllmServeRuntime r = (AxllmServeRuntime) create(target.visionWorker(Host.freePort()));
        closeAfterCheck(r);
        return r;
    }

    /** The runner a chat worker runs its jobs with over {@code runtime}, with the chat worker's settings (as Runners makes it). */
    ChatRunner chatRunner(AxllmServeRuntime runtime) throws Verdict.Skip {
        WorkerConfig c = WorkerConfig.from(target.chatWorker(runtime.base().getPort(), chatPaced));
        return new ChatRunner(runtime, c.defaultMaxTokens(), c.contextOverflow());
    }

    /** The second chat model's {@code axllm serve} (U30), of the check's own, beside the shared one. Not started; stopped after the check. */
    AxllmServeRuntime second(boolean paced) throws Verdict.Skip {
        AxllmServeRuntime r = (AxllmServeRuntime) create(target.secondWorker(Host.freePort(), paced));
        closeAfterCheck(r);
        return r;
    }

    /**
     * asr_server for transcription model {@code id}, from a worker's settings for it, with nothing else of doctor's on the
     * card (its CMM is its own); on the pulled folder when asr_server reads it as it is, else on a folder of links doctor
     * makes (U34 says why). Not started; stopped after the check.
     */
    AsrServerRuntime transcriber(String id, boolean paced) throws Verdict.Skip {
        releaseAll();
        return transcriberBeside(id, paced);
    }

    /** asr_server for {@code id} as {@link #transcriber}, beside whatever else of doctor's is on the card (U38). Not started; stopped after the check. */
    AsrServerRuntime transcriberBeside(String id, boolean paced) throws Verdict.Skip {
        Path dir = target.transcribeModelDir(id);
        String asr = asrModel(id);
        Path path = AsrFolder.serverPath(dir, asr, target.stateDir().resolve("asr-links"));
        if (path == null) {
            throw new Verdict.Skip(dir + " holds no " + AsrFolder.wanted(asr) + " files asr_server could read (" + AsrFolder.missing(dir, asr)
                    + "; U34)");
        }
        if (!path.equals(dir)) {
            note("asr_server runs on " + path + ": links to the files in " + dir + ", laid out as asr_server reads them (U34)");
        }
        AsrServerRuntime r = (AsrServerRuntime) create(target.transcribeWorker(id, path, Host.freePort(), paced));
        closeAfterCheck(r);
        return r;
    }

    /** The name asr_server knows a transcription model by, as a worker's {@code runtime.asr_model} defaults to it. */
    static String asrModel(String id) {
        return id.replace('-', '_');
    }

    /** The melotts unit through llm-sys, from a speech worker's settings (the unit set up by its start, released by its close). Not started. */
    StackFlowTtsRuntime speaker() throws Verdict.Skip {
        return speaker(false);
    }

    /** The melotts unit as {@link #speaker()}; {@code paced}: emulated, at the pace timing checks measure. Not started. */
    StackFlowTtsRuntime speaker(boolean paced) throws Verdict.Skip {
        Settings s = target.speechWorker(paced);
        StackFlowTtsRuntime.Config c = SpeechChecks.config(s);
        // Skipped soon where llm-sys is not installed, as U35 is (the adapter's start would wait its whole load timeout); a
        // unit (re)started for this check gets a few seconds to listen.
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (true) {
            try {
                StackFlowWire.open(c.host(), c.port()).close();
                break;
            } catch (Verdict.Skip notYet) {
                if (System.nanoTime() > deadline) {
                    throw notYet;
                }
                try {
                    Thread.sleep(250);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw notYet;
                }
            }
        }
        StackFlowTtsRuntime r = (StackFlowTtsRuntime) create(s);
        closeAfterCheck(r);
        return r;
    }

    /** The CMM axcl-smi says card 0 uses ({@code info --cmm}), MiB; null when it says none. Not written into the evidence. */
    Long cmmUsed() {
        List<String> command = new ArrayList<>(monitor().axclSmi());
        command.addAll(List.of("info", "--cmm", "-d", "0"));
        return dev.axfleet.monitor.probe.SmiParser.cmm(Tool.run(command, null, monitor().probeTimeout()).output()).usedMiB();
    }

    /** The legacy runtime (main_api and its tokenizer), of the check's own. Not started; stopped after the check. */
    MainApiRuntime legacy() throws Verdict.Skip {
        releaseChat();
        Settings s = target.legacyWorker();
        legacyPort = s.integer("runtime.port", 8000);
        MainApiRuntime r = (MainApiRuntime) create(s);
        closeAfterCheck(r);
        return r;
    }

    /** Where the legacy runtime of {@link #legacy()} listens (8000 on the card: hard-coded in main_api). */
    int legacyPort() {
        return legacyPort;
    }

    /** SD1.5-LCM in this process through libaxcl_rt.so, as the image worker holds it: loaded once and shared. */
    Sd15Runtime image() throws Verdict.Skip, RuntimeStartException {
        if (image == null) {
            if (imageFailure != null) {
                throw new Verdict.Skip("SD1.5-LCM did not load earlier in this run: " + imageFailure);
            }
            Sd15Runtime r = (Sd15Runtime) create(target.imageWorker());
            try {
                r.start(loadTimeout());
            } catch (RuntimeStartException e) {
                imageFailure = Host.firstLine(e.getMessage());
                throw e;
            }
            image = r;
        }
        return image;
    }

    boolean imageLoaded() {
        return image != null;
    }

    private static ModelRuntime create(Settings s) {
        return WorkerConfig.from(s).runtime().create();
    }

    Duration loadTimeout() {
        return settings.duration("runtime.load_timeout", Duration.ofSeconds(300));
    }

    Duration stopGrace() {
        return settings.duration("runtime.stop_grace", Duration.ofSeconds(10));
    }

    void releaseChat() {
        if (chat != null) {
            chat.close();
            chat = null;
        }
    }

    /** Nothing of doctor's own on the card: the shared runtimes stopped (CMM figures "with nothing loaded"). */
    void releaseAll() {
        releaseChat();
        if (image != null) {
            image.close();
            image = null;
        }
    }

    @Override
    public void close() {
        endCheck();
        releaseAll();
    }

    // ---- the card's tools ----

    /** axcl-smi with {@code args}, under the monitor's probe time limit; its output goes into the evidence. */
    Tool.Result smi(String... args) {
        List<String> command = new ArrayList<>(monitor().axclSmi());
        command.addAll(List.of(args));
        Tool.Result r = Tool.run(command, null, monitor().probeTimeout());
        output("$ axcl-smi " + String.join(" ", args) + " (exit " + r.exitCode() + (r.timedOut() ? ", timed out" : "") + ")",
                r.startError() != null ? "cannot run: " + r.startError() : r.output());
        return r;
    }

    SmiProbe smiProbe() {
        return new SmiProbe(monitor().axclSmi(), monitor().probeTimeout());
    }

    /** GET {@code path} on a loopback port: the status and body ({@code -1} and the error when it does not answer). */
    static HttpResponse<String> get(int port, String path) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(10)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
