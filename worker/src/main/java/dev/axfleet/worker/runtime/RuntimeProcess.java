package dev.axfleet.worker.runtime;

import dev.axfleet.os.Signals;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One child process of a runtime (the runtime itself, or the legacy tokenizer server), supervised the
 * way the card needs (../shared/axera.md §8.3):
 * <ul>
 * <li>stopped with SIGINT first, then SIGTERM, and SIGKILL only as a last resort and never while it is
 *     still loading engines, because killing a process mid-load wedges the card;</li>
 * <li>its PID is kept in a file, so a process orphaned by a worker that died is found and stopped
 *     before a new one is started (two runtimes would fight over the card and the port);</li>
 * <li>its binary is checked first: a 132-byte Git LFS pointer instead of the real file gets a clear
 *     message instead of an "exec format error".</li>
 * </ul>
 */
public final class RuntimeProcess {
    private static final Logger log = LoggerFactory.getLogger(RuntimeProcess.class);
    private static final int KEEP_LINES = 40;
    private static final int MAX_LINE = 4096;

    private final String name;
    private final List<String> command;
    private final Path workDir;
    private final Map<String, String> env;
    private final Path pidFile;
    private final Duration stopGrace;
    private final Duration loadGrace;
    private final List<Consumer<String>> listeners = new CopyOnWriteArrayList<>();
    private final Deque<String> recent = new ArrayDeque<>();
    private volatile Process process;
    private volatile Thread pumpThread;
    private volatile boolean loading;
    private volatile long lastOutputNanos = System.nanoTime();

    /**
     * @param stopGrace how long to wait after each polite signal
     * @param loadGrace how long a process that is still loading may take to stop after SIGINT before it
     *                  is killed anyway (long: a 4B model loads for more than two minutes)
     */
    public RuntimeProcess(String name, List<String> command, Path workDir, Map<String, String> env, Path pidFile,
                          Duration stopGrace, Duration loadGrace) {
        this.name = name;
        this.command = List.copyOf(command);
        this.workDir = workDir;
        this.env = Map.copyOf(env);
        this.pidFile = pidFile;
        this.stopGrace = stopGrace;
        this.loadGrace = loadGrace;
    }

    public String name() {
        return name;
    }

    /** Called with every line the process prints, on its output thread. */
    public void onLine(Consumer<String> listener) {
        listeners.add(listener);
    }

    public synchronized void start() throws RuntimeStartException {
        if (alive()) {
            return;
        }
        checkBinary();
        stopStray();
        ProcessBuilder pb = new ProcessBuilder(withDefaultSignals(command)).redirectErrorStream(true);
        if (workDir != null) {
            pb.directory(workDir.toFile());
        }
        pb.environment().putAll(withCardPaths(pb.environment(), env));
        try {
            process = pb.start();
        } catch (IOException e) {
            throw new RuntimeStartException(name + " could not be started (" + String.join(" ", command) + "): " + e.getMessage());
        }
        loading = true;
        try {
            process.getOutputStream().close(); // stdin closed: a runtime must never wait for a person
        } catch (IOException e) {
            log.debug("{}: closing stdin: {}", name, e.toString());
        }
        writePidFile(process.toHandle());
        Thread pump = new Thread(() -> pump(process.getInputStream()), name + "-output");
        pump.setDaemon(true);
        pump.start();
        pumpThread = pump;
        log.info("{} started, pid {}: {}", name, process.pid(), brief(command));
        log.debug("{} command: {}", name, String.join(" ", command));
    }

    /**
     * The command started through {@code env --default-signal=INT,TERM} (coreutils 8.31+) when it can be: a worker
     * started from a background shell job or nohup inherits SIGINT ignored and passes that on, and a runtime that
     * ignores SIGINT cannot be stopped politely while it loads (it would wait out the load grace).
     */
    private static List<String> withDefaultSignals(List<String> command) {
        if (!ENV_RESETS_SIGNALS) {
            return command;
        }
        List<String> c = new ArrayList<>(List.of("env", "--default-signal=INT,TERM"));
        c.addAll(command);
        return c;
    }

    private static final boolean ENV_RESETS_SIGNALS = envResetsSignals();

    private static boolean envResetsSignals() {
        try {
            Process p = new ProcessBuilder("env", "--default-signal=INT,TERM", "true").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(5, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** The process finished loading and serves; from now on a stop may end with SIGKILL. */
    public void markReady() {
        loading = false;
    }

    public boolean alive() {
        Process p = process;
        return p != null && p.isAlive();
    }

    public Optional<Integer> exitCode() {
        Process p = process;
        return p == null || p.isAlive() ? Optional.empty() : Optional.of(p.exitValue());
    }

    public long pid() {
        Process p = process;
        return p == null ? -1 : p.pid();
    }

    /**
     * When the process last printed anything ({@link System#nanoTime()}): {@code axllm serve} prints each piece of an
     * answer as it pushes it (main.cpp@00d7aaf, the stream callback's {@code fprintf(stdout, ...)}), so quiet output
     * after tokens means the answer ended.
     */
    public long lastOutputNanos() {
        return lastOutputNanos;
    }

    /** The last lines the process printed, for error messages. */
    public synchronized String recentOutput() {
        return String.join("\n", recent);
    }

    /** Stops the process politely (see the class comment); returns when it has exited and its last lines are read. */
    public void stop() {
        Thread pump;
        synchronized (this) {
            Process p = process;
            if (p == null) {
                return;
            }
            stopHandle(p.toHandle(), loading);
            deletePidFile();
            process = null;
            pump = pumpThread;
        }
        if (pump != null) {
            try {
                pump.join(1000); // how it shut down belongs to this stop's log (outside the lock its lines need)
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void stopHandle(ProcessHandle h, boolean stillLoading) {
        if (!h.isAlive()) {
            return;
        }
        Signals.send(h.pid(), Signals.SIGINT);
        if (waitExit(h, stillLoading ? loadGrace : stopGrace)) {
            return;
        }
        log.warn("{} (pid {}) ignored SIGINT; sending SIGTERM", name, h.pid());
        Signals.send(h.pid(), Signals.SIGTERM);
        if (waitExit(h, stopGrace)) {
            return;
        }
        log.warn("{} (pid {}) ignored SIGTERM; sending SIGKILL", name, h.pid());
        h.destroyForcibly();
        waitExit(h, stopGrace);
    }

    private void stopStray() {
        if (pidFile == null || !Files.isRegularFile(pidFile)) {
            return;
        }
        try {
            List<String> lines = Files.readAllLines(pidFile);
            long pid = Long.parseLong(lines.get(0).trim());
            Instant started = lines.size() > 1 ? Instant.parse(lines.get(1).trim()) : null;
            Optional<ProcessHandle> h = ProcessHandle.of(pid);
            if (h.isPresent() && h.get().isAlive() && started != null
                    && started.equals(h.get().info().startInstant().orElse(null))) {
                log.warn("{}: a runtime left by an earlier worker is still running (pid {}); stopping it first", name, pid);
                // It may still be loading: give it the load grace before anything harder than SIGINT.
                stopHandle(h.get(), true);
            }
        } catch (IOException | RuntimeException e) {
            log.warn("{}: unreadable pid file {}: {}", name, pidFile, e.toString());
        }
        deletePidFile();
    }

    private void writePidFile(ProcessHandle h) {
        if (pidFile == null) {
            return;
        }
        try {
            Files.createDirectories(pidFile.getParent());
            Files.writeString(pidFile, h.pid() + "\n" + h.info().startInstant().map(Instant::toString).orElse("") + "\n");
        } catch (IOException e) {
            log.warn("{}: cannot write pid file {}: {}", name, pidFile, e.toString());
        }
    }

    private void deletePidFile() {
        if (pidFile != null) {
            try {
                Files.deleteIfExists(pidFile);
            } catch (IOException e) {
                log.warn("{}: cannot delete pid file {}: {}", name, pidFile, e.toString());
            }
        }
    }

    private void checkBinary() throws RuntimeStartException {
        String exe = command.get(0);
        Path path = exe.contains("/") ? (workDir != null ? workDir.resolve(exe) : Path.of(exe)) : onPath(exe);
        if (path == null || !Files.isRegularFile(path)) {
            throw new RuntimeStartException(name + " is not installed: '" + exe + "' is not "
                    + (exe.contains("/") ? "there (" + path + ")" : "on PATH (" + System.getenv("PATH") + ":/usr/bin/axcl)")
                    + "; install it (docs/troubleshooting.md, \"Workers and the runtime\"), or set runtime.command to where it is");
        }
        try {
            if (Files.size(path) < 2048) {
                String head = new String(Files.readAllBytes(path), StandardCharsets.UTF_8);
                if (head.startsWith("version https://git-lfs")) {
                    throw new RuntimeStartException(name + ": " + path + " is a " + Files.size(path)
                            + "-byte Git LFS pointer, not the program. Download the real file from the model host "
                            + "(its resolve/main/<file> URL) or run 'git lfs pull' in the model folder.");
                }
            }
        } catch (IOException e) {
            throw new RuntimeStartException(name + ": cannot read " + path + ": " + e.getMessage());
        }
        if (!Files.isExecutable(path)) {
            throw new RuntimeStartException(name + ": " + path + " is not executable (chmod +x " + path + ")");
        }
    }

    private static Path onPath(String exe) {
        String path = System.getenv().getOrDefault("PATH", "") + ":/usr/bin/axcl";
        for (String dir : path.split(":")) {
            if (!dir.isEmpty()) {
                Path p = Path.of(dir, exe);
                if (Files.isExecutable(p)) {
                    return p;
                }
            }
        }
        return null;
    }

    /** The manufacturer's runtimes find their libraries in /usr/lib/axcl and tools in /usr/bin/axcl (axclhost package). */
    private static Map<String, String> withCardPaths(Map<String, String> inherited, Map<String, String> extra) {
        Map<String, String> out = new HashMap<>(extra);
        String path = out.getOrDefault("PATH", inherited.getOrDefault("PATH", "/usr/bin:/bin"));
        out.put("PATH", path.contains("/usr/bin/axcl") ? path : path + ":/usr/bin/axcl");
        String ld = out.getOrDefault("LD_LIBRARY_PATH", inherited.getOrDefault("LD_LIBRARY_PATH", ""));
        out.put("LD_LIBRARY_PATH", ld.contains("/usr/lib/axcl") ? ld : (ld.isEmpty() ? "" : ld + ":") + "/usr/lib/axcl");
        return out;
    }

    private void pump(InputStream in) {
        StringBuilder line = new StringBuilder();
        try (Reader r = new InputStreamReader(in, StandardCharsets.UTF_8)) {
            int c;
            while ((c = r.read()) >= 0) {
                lastOutputNanos = System.nanoTime();
                if (c == '\n' || line.length() >= MAX_LINE) {
                    line(line.toString());
                    line.setLength(0);
                } else if (c != '\r') {
                    line.append((char) c);
                }
            }
        } catch (IOException e) {
            // The process closed its output: it is exiting.
        }
        if (line.length() > 0) {
            line(line.toString());
        }
    }

    private void line(String s) {
        synchronized (this) {
            recent.addLast(s);
            while (recent.size() > KEEP_LINES) {
                recent.removeFirst();
            }
        }
        log.info("[{}] {}", name, s);
        for (Consumer<String> l : listeners) {
            l.accept(s);
        }
    }

    /** The command for a log line: long arguments (a Java class path) shortened. */
    private static String brief(List<String> command) {
        StringBuilder sb = new StringBuilder();
        for (String a : command) {
            sb.append(sb.length() == 0 ? "" : " ").append(a.length() > 120 ? a.substring(0, 40) + "..." + a.substring(a.length() - 40) : a);
        }
        return sb.toString();
    }

    private static boolean waitExit(ProcessHandle h, Duration d) {
        return Signals.awaitExit(h, d);
    }
}
