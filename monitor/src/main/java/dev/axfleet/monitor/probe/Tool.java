package dev.axfleet.monitor.probe;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs one of the card's command-line tools the way it is safe to: stdin closed or fed a fixed answer, no
 * terminal (axcl-smi can leave a TTY in raw mode: ../shared/axera.md §3), output captured and bounded, and a
 * time limit after which the tool is stopped (TERM, then KILL: a probe loads no engines).
 */
public final class Tool {
    private static final int MAX_OUTPUT = 64 * 1024;

    private Tool() {
    }

    /**
     * What the tool did.
     *
     * @param exitCode the exit code, or -1 when it timed out or could not start
     * @param output   stdout and stderr together, at most 64 KiB
     */
    public record Result(int exitCode, String output, boolean timedOut, String startError) {
        public boolean ok() {
            return exitCode == 0;
        }
    }

    /** Runs {@code command} with {@code stdin} as its input (null: none), for at most {@code timeout}. */
    public static Result run(List<String> command, String stdin, Duration timeout) {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        if (stdin == null) {
            pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        }
        pb.environment().put("TERM", "dumb");
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            return new Result(-1, "", false, e.getMessage());
        }
        if (stdin != null) {
            try (OutputStream in = p.getOutputStream()) {
                in.write(stdin.getBytes(StandardCharsets.UTF_8));
            } catch (IOException e) {
                // The tool exited before reading its answer; its output says why.
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Thread reader = new Thread(() -> copy(p.getInputStream(), out), "tool-output");
        reader.setDaemon(true);
        reader.start();
        boolean finished;
        try {
            finished = p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            finished = false;
        }
        if (!finished) {
            p.destroy();
            try {
                if (!p.waitFor(2, TimeUnit.SECONDS)) {
                    p.destroyForcibly().waitFor(2, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        try {
            reader.join(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        String text;
        synchronized (out) {
            text = out.toString(StandardCharsets.UTF_8);
        }
        return new Result(finished ? p.exitValue() : -1, text, !finished, null);
    }

    /** Tool output for a log line or an event: one line, at most {@code max} characters. */
    public static String oneLine(String s, int max) {
        String one = s.replaceAll("\\s+", " ").strip();
        return one.length() > max ? one.substring(0, max) + "..." : one;
    }

    private static void copy(InputStream in, ByteArrayOutputStream out) {
        byte[] buf = new byte[8192];
        try (in) {
            int n;
            while ((n = in.read(buf)) >= 0) {
                synchronized (out) {
                    if (out.size() < MAX_OUTPUT) {
                        out.write(buf, 0, Math.min(n, MAX_OUTPUT - out.size()));
                    }
                }
            }
        } catch (IOException e) {
            // The process was stopped; what was read so far is kept.
        }
    }
}
