package dev.axfleet.deploy.models;

import java.io.PrintStream;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * What a pull prints as bytes arrive, per file and in total: bytes, rate and time left. On a terminal one line
 * redrawn at most four times a second (as {@code ollama pull} and {@code hf download} do); elsewhere (a log, a
 * pipe, the journal) a plain line each time the total passes another 10 %.
 */
final class PullProgress {
    private static final long REDRAW_NANOS = 250_000_000L;

    private final PrintStream out;
    private final boolean terminal;
    private final long total;
    private final LongSupplier nanos;
    private final long started;
    private long done;
    private long fetchedThisRun;
    private String file;
    private long fileSize;
    private long fileDone;
    private long lastDraw;
    private int lastTenth;
    private boolean drawn;

    /** @param alreadyHave bytes of the total already on disk (whole files and resumed parts): they count as done */
    PullProgress(PrintStream out, boolean terminal, long total, long alreadyHave, LongSupplier nanos) {
        this.out = out;
        this.terminal = terminal;
        this.total = Math.max(1, total);
        this.nanos = nanos;
        this.started = nanos.getAsLong();
        this.done = alreadyHave;
        this.lastTenth = (int) (10 * alreadyHave / this.total);
    }

    void startFile(String path, long size, long resumeAt) {
        clearLine();
        file = path;
        fileSize = size;
        fileDone = resumeAt;
        out.println("  get     " + path + " (" + bytes(size) + (resumeAt > 0 ? ", resuming at " + bytes(resumeAt) : "") + ")");
    }

    /** Bytes of the current file arrived. */
    void advance(long n) {
        done += n;
        fetchedThisRun += n;
        fileDone += n;
        long now = nanos.getAsLong();
        if (terminal) {
            if (now - lastDraw >= REDRAW_NANOS) {
                lastDraw = now;
                out.print("\r" + line(true) + "\u001b[K");
                out.flush();
                drawn = true;
            }
        } else {
            int tenth = (int) Math.min(10, 10 * done / total);
            if (tenth > lastTenth) {
                lastTenth = tenth;
                out.println("  " + line(false));
            }
        }
    }

    /** A resumed file's bytes already counted were thrown away (the host sent the whole file again). */
    void restartFile(long discarded) {
        done -= discarded;
        fileDone -= discarded;
    }

    void endFile() {
        clearLine();
    }

    private void clearLine() {
        if (drawn) {
            out.print("\r\u001b[K");
            out.flush();
            drawn = false;
        }
    }

    /** {@code 40% 1.3 GB of 3.4 GB, 12.3 MB/s, 2m50s left} (a terminal also names the file and its share). */
    String line(boolean withFile) {
        double seconds = (nanos.getAsLong() - started) / 1e9;
        double rate = seconds > 0 ? fetchedThisRun / seconds : 0;
        String left = rate > 0 ? duration((total - done) / rate) + " left" : "time left unknown";
        String sum = String.format(Locale.ROOT, "%3d%% %s of %s, %s/s, %s", 100 * done / total, bytes(done), bytes(total), bytes((long) rate), left);
        return withFile && file != null ? String.format(Locale.ROOT, "%s %s/%s | total %s", file, bytes(fileDone), bytes(fileSize), sum) : sum;
    }

    static String bytes(long n) {
        if (n < 1000) {
            return n + " B";
        }
        String[] units = {"kB", "MB", "GB", "TB"};
        double v = n;
        int u = -1;
        while (v >= 1000 && u < units.length - 1) {
            v /= 1000;
            u++;
        }
        return String.format(Locale.ROOT, v < 10 ? "%.2f %s" : v < 100 ? "%.1f %s" : "%.0f %s", v, units[u]);
    }

    static String duration(double seconds) {
        long s = Math.round(seconds);
        if (s < 60) {
            return s + "s";
        }
        if (s < 3600) {
            return s / 60 + "m" + String.format(Locale.ROOT, "%02d", s % 60) + "s";
        }
        return s / 3600 + "h" + String.format(Locale.ROOT, "%02d", s % 3600 / 60) + "m";
    }
}
