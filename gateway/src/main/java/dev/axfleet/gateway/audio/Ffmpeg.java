package dev.axfleet.gateway.audio;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Debian's {@code ffmpeg} and {@code ffprobe} as subprocesses: what no maintained pure-Java library does (MP3, Ogg/Opus,
 * WebM, M4A in; MP3, Opus, AAC, FLAC out). Each run is bounded in time and in output bytes, at most {@value #PARALLEL} at
 * once (the Pi's cores serve the workers too); stderr is kept for the error message.
 */
public final class Ffmpeg {
    private static final Logger log = LoggerFactory.getLogger(Ffmpeg.class);
    static final int PARALLEL = 2;
    private static final Semaphore RUNS = new Semaphore(PARALLEL, true);
    private static final String FFMPEG = System.getProperty("axfleet.ffmpeg", "ffmpeg");
    private static final String FFPROBE = System.getProperty("axfleet.ffprobe", "ffprobe");

    private Ffmpeg() {
    }

    /** ffmpeg could not do the work: not installed, every run busy, or not finished in time. */
    public static final class Unavailable extends Exception {
        /** Why, for the caller's status: a missing ffmpeg is the server's setup, a busy one worth a retry, a slow file the file's fault. */
        public enum Why { MISSING, BUSY, TOO_SLOW }

        private final Why why;

        public Unavailable(Why why, String message) {
            super(message);
            this.why = why;
        }

        public Why why() {
            return why;
        }
    }

    /** What a run printed and left. */
    public record Result(int exitCode, byte[] stdout, String stderr, boolean truncated) {
    }

    /** Whether {@code ffmpeg} can be run here. */
    public static boolean present() {
        try {
            Process p = new ProcessBuilder(FFMPEG, "-version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** ffprobe's JSON about {@code file}'s format and streams. */
    static Result probe(Path file, long timeoutMs) throws Unavailable {
        return run(List.of(FFPROBE, "-v", "error", "-show_entries", "format=duration,format_name:stream=codec_type,codec_name,channels,sample_rate",
                "-of", "json", file.toString()), timeoutMs, 1 << 20);
    }

    /** {@code file}'s first audio stream as 16-bit little-endian mono at {@code rate}, at most {@code maxSeconds}. */
    static Result decode(Path file, int rate, double maxSeconds, long timeoutMs, int maxBytes) throws Unavailable {
        return run(List.of(FFMPEG, "-nostdin", "-hide_banner", "-loglevel", "error", "-i", file.toString(), "-map", "0:a:0", "-vn", "-ac", "1",
                "-ar", String.valueOf(rate), "-t", String.valueOf(maxSeconds), "-f", "s16le", "-acodec", "pcm_s16le", "pipe:1"), timeoutMs, maxBytes);
    }

    /**
     * An encoder fed 16-bit mono PCM at {@code rate} on its stdin, writing {@code format} to stdout: the caller writes
     * samples with {@link Process#getOutputStream()}, reads the encoded stream from {@link Process#getInputStream()}.
     */
    public static Process encoder(String format, int rate) throws Unavailable {
        List<String> cmd = new ArrayList<>(List.of(FFMPEG, "-nostdin", "-hide_banner", "-loglevel", "error", "-f", "s16le", "-ar",
                String.valueOf(rate), "-ac", "1", "-i", "pipe:0"));
        cmd.addAll(switch (format) {
            case "mp3" -> List.of("-c:a", "libmp3lame", "-b:a", "64k", "-f", "mp3");
            case "opus" -> List.of("-c:a", "libopus", "-b:a", "32k", "-f", "ogg");
            case "aac" -> List.of("-c:a", "aac", "-b:a", "64k", "-f", "adts");
            case "flac" -> List.of("-c:a", "flac", "-f", "flac");
            default -> throw new IllegalArgumentException("no encoder for " + format);
        });
        cmd.add("pipe:1");
        try {
            return new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        } catch (IOException e) {
            throw new Unavailable(Unavailable.Why.MISSING, "ffmpeg cannot be run (" + e.getMessage() + "): sudo apt install ffmpeg");
        }
    }

    private static Result run(List<String> command, long timeoutMs, int maxBytes) throws Unavailable {
        boolean got = false;
        try {
            got = RUNS.tryAcquire(timeoutMs, TimeUnit.MILLISECONDS);
            if (!got) {
                throw new Unavailable(Unavailable.Why.BUSY, PARALLEL + " ffmpeg runs are busy; try again shortly");
            }
            Process p;
            try {
                p = new ProcessBuilder(command).start();
            } catch (IOException e) {
                throw new Unavailable(Unavailable.Why.MISSING, command.get(0) + " cannot be run (" + e.getMessage() + "): sudo apt install ffmpeg");
            }
            p.getOutputStream().close();
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            Thread errPump = new Thread(() -> copy(p.getErrorStream(), err, 64 << 10), "ffmpeg-stderr");
            errPump.setDaemon(true);
            errPump.start();
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            boolean[] truncated = {false};
            Thread outPump = new Thread(() -> truncated[0] = copy(p.getInputStream(), out, maxBytes), "ffmpeg-stdout");
            outPump.setDaemon(true);
            outPump.start();
            if (!p.waitFor(timeoutMs, TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                throw new Unavailable(Unavailable.Why.TOO_SLOW, command.get(0) + " did not finish within " + timeoutMs + " ms");
            }
            outPump.join(2000);
            errPump.join(2000);
            return new Result(p.exitValue(), out.toByteArray(), err.toString(StandardCharsets.UTF_8).strip(), truncated[0]);
        } catch (InterruptedException | IOException e) {
            Thread.currentThread().interrupt();
            throw new Unavailable(Unavailable.Why.BUSY, "interrupted");
        } finally {
            if (got) {
                RUNS.release();
            }
        }
    }

    /** Copies at most {@code max} bytes, then drains the rest; true when some were left out. */
    private static boolean copy(InputStream in, ByteArrayOutputStream out, int max) {
        byte[] buf = new byte[1 << 16];
        boolean truncated = false;
        try (in) {
            int n;
            while ((n = in.read(buf)) > 0) {
                int keep = Math.max(0, Math.min(n, max - out.size()));
                out.write(buf, 0, keep);
                truncated |= keep < n;
            }
        } catch (IOException e) {
            log.debug("ffmpeg pipe: {}", e.toString());
        }
        return truncated;
    }

    /** A private temporary file holding {@code bytes}, deleted by the caller. */
    static Path temp(byte[] bytes, String suffix) throws IOException {
        Path f = Files.createTempFile("axfleet-audio-", suffix,
                java.nio.file.attribute.PosixFilePermissions.asFileAttribute(java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
        Files.write(f, bytes);
        return f;
    }
}
