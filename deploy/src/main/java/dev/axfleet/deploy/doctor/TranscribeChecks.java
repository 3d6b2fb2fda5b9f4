package dev.axfleet.deploy.doctor;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.axfleet.broker.CardProcess;
import dev.axfleet.broker.audio.Wav;
import dev.axfleet.deploy.doctor.Check.Need;
import dev.axfleet.deploy.models.ModelCatalog;
import dev.axfleet.monitor.probe.DeviceHealth;
import dev.axfleet.monitor.probe.SmiParser;
import dev.axfleet.monitor.probe.Tool;
import dev.axfleet.worker.transcribe.AsrServerRuntime;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * AXERA's asr_server on the card (docs/hardware.md U31-U34, F44-F48, A22-A24), started by the worker's adapter
 * ({@link AsrServerRuntime}) from a transcription worker's settings: the folder it reads, its start (/healthz at once, the
 * model loaded by the first request), its key, where it listens and on which card, the CMM each model takes, and what a
 * short and a long piece of audio cost.
 */
final class TranscribeChecks {
    private static final Set<Need> ALONE = Set.of(Need.CARD_ALONE);

    private TranscribeChecks() {
    }

    static List<Check> all() {
        return List.of(
                Check.of("U34", "the model folder asr_server reads", Duration.ofMinutes(4), ALONE, List.of(), TranscribeChecks::layout),
                Check.of("U31", "asr_server on the card", Duration.ofMinutes(6), ALONE, List.of("F44", "F46", "F48", "A22"), TranscribeChecks::asrServer),
                Check.of("U32", "SenseVoice's CMM", Duration.ofMinutes(6), ALONE, List.of("A24"), TranscribeChecks::sensevoice),
                Check.of("U33", "Whisper's cost per piece", Duration.ofMinutes(6), ALONE, List.of("A23", "F45"), TranscribeChecks::perPiece));
    }

    // ---- U34 ----

    static Verdict layout(Lab lab) throws Exception {
        Target t = lab.target();
        List<String> off = new ArrayList<>();
        List<String> seen = new ArrayList<>();
        int installed = 0;
        for (String id : List.of(t.transcribeModel(), t.sensevoiceModel())) {
            Path dir;
            try {
                dir = t.transcribeModelDir(id);
            } catch (Verdict.Skip e) {
                seen.add(id + " not installed");
                continue;
            }
            installed++;
            String asr = Lab.asrModel(id);
            List<Path> missing = AsrFolder.missing(dir, asr);
            if (missing.isEmpty()) {
                seen.add(id + ": " + dir + " holds " + AsrFolder.wanted(asr) + "/ as asr_server reads it (" + names(asr) + ")");
                continue;
            }
            Path found = AsrFolder.locate(dir, asr);
            lab.note(id + ": under " + dir + " asr_server would open " + AsrServerRuntime.modelFiles(asr) + "; missing " + missing);
            if (found == null) {
                off.add(id + ": " + dir + " has none of " + names(asr) + " in one folder (asr_server opens " + AsrFolder.wanted(asr)
                        + "/" + missing.get(0).getFileName() + "): pull it again");
                continue;
            }
            String fix = AsrFolder.fix(dir, asr, found);
            // The fix proven: asr_server through the worker's adapter on a folder of links laid out so.
            AsrServerRuntime r = lab.transcriber(id, false);
            String loads;
            try {
                r.start(lab.loadTimeout());
                loads = "asr_server loads it from links laid out so";
            } catch (dev.axfleet.worker.runtime.RuntimeStartException e) {
                loads = "asr_server did not load it even from links laid out so: " + Tool.oneLine(e.getMessage(), 200);
            }
            r.close();
            off.add(id + ": the pull left the files in " + dir.relativize(found) + "/, asr_server reads " + AsrFolder.wanted(asr)
                    + "/ under --model_path (" + dir + "); " + loads + ": `" + fix + "` (or set runtime.model_dir to a folder holding "
                    + AsrFolder.wanted(asr).getName(0) + "/)");
        }
        if (installed == 0) {
            throw new Verdict.Skip("no transcription model installed: sudo axfleet models pull " + t.transcribeModel());
        }
        String all = String.join("; ", seen);
        return off.isEmpty() ? Verdict.verified(all) : Verdict.differs(String.join("; ", off) + (all.isEmpty() ? "" : "; " + all));
    }

    private static String names(String asr) {
        return String.join(", ", AsrServerRuntime.modelFiles(asr).stream().map(p -> p.getFileName().toString()).toList());
    }

    // ---- U31 ----

    static Verdict asrServer(Lab lab) throws Exception {
        Target t = lab.target();
        String id = t.transcribeModel();
        lab.releaseAll();
        Long before = lab.cmmUsed();
        AsrServerRuntime r = lab.transcriber(id, true);
        int port = r.base().getPort();
        // /healthz answers before any model is loaded (F44): when it first says ok, read from a thread of its own.
        AtomicLong healthMs = new AtomicLong(-1);
        AtomicReference<String> health = new AtomicReference<>();
        long t0 = System.nanoTime();
        Thread poll = new Thread(() -> {
            while (healthMs.get() < 0 && !Thread.currentThread().isInterrupted()) {
                try {
                    HttpResponse<String> h = Lab.get(port, "/healthz");
                    if (h.statusCode() == 200) {
                        health.set(h.body());
                        healthMs.set((System.nanoTime() - t0) / 1_000_000);
                        return;
                    }
                } catch (java.io.IOException e) {
                    // Not listening yet.
                } catch (InterruptedException e) {
                    return;
                }
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "doctor-healthz");
        poll.setDaemon(true);
        poll.start();
        r.start(lab.loadTimeout());
        long readyMs = (System.nanoTime() - t0) / 1_000_000;
        poll.interrupt();
        long t1 = System.nanoTime();
        r.transcribe(Wav.write16(new float[16_000], 16_000), null);
        long warmMs = (System.nanoTime() - t1) / 1_000_000;
        Long after = lab.cmmUsed();
        lab.output("asr_server's log", r.recentOutput());
        List<String> off = new ArrayList<>();
        List<String> seen = new ArrayList<>();

        // The start: /healthz first, then the first request, which loads the model (F46, A22).
        long firstMs = healthMs.get() < 0 ? -1 : readyMs - healthMs.get();
        seen.add("/healthz ok " + healthMs.get() + " ms after the start (" + health.get() + "); the first request (1 s of silence) took "
                + firstMs + " ms, the second " + warmMs + " ms: about " + Math.max(0, firstMs - warmMs) + " ms to load " + Lab.asrModel(id)
                + " (A22: " + (id.contains("tiny") ? "3.5 s" : "scaled from Whisper-Small's 15.1 s") + ")");
        JsonObject h = parse(health.get());
        if (h == null || !h.has("status") || !"ok".equals(h.get("status").getAsString()) || !h.has("auth_enabled")
                || !h.get("auth_enabled").getAsBoolean()) {
            off.add("/healthz answered " + health.get() + " (F44: {\"auth_enabled\":true,\"status\":\"ok\"} with a key)");
        }
        if (firstMs < 0 || firstMs - warmMs < Math.max(100, warmMs)) {
            off.add("the first request did not load the model (" + firstMs + " ms against " + warmMs + " ms for the second): asr_server loads "
                    + "at start, not on a model's first request (F46's load_asr_; the adapter's silent first request is then only a check)");
        }

        // Its key: everything but /healthz needs it (F44).
        HttpResponse<String> keyless = Lab.get(port, "/v1/models");
        lab.note("GET /v1/models without the key -> " + keyless.statusCode() + " " + Tool.oneLine(keyless.body(), 200));
        if (keyless.statusCode() != 401) {
            off.add("/v1/models answered " + keyless.statusCode() + " without the API key (F44: 401): anyone on the network can use the card");
        }

        // CMM: what the loaded model took (the catalog's figure is the StackFlow plugin's reservation).
        if (before == null || after == null) {
            off.add("axcl-smi info --cmm gave no CMM Used line");
        } else {
            compare(id, after - before, 0.25, seen, off);
        }

        // Where it listens: 0.0.0.0 whatever it is asked (F44); the emulator keeps to loopback (AsrServer.run).
        List<String> bound = Host.listening(port);
        String expected = lab.emulated() ? "127.0.0.1" : "0.0.0.0";
        seen.add("listening on " + (bound.isEmpty() ? "nothing /proc/net/tcp shows" : String.join(", ", bound)) + ":" + port);
        if (bound.stream().noneMatch(a -> a.equals(expected) || !lab.emulated() && a.equals("::"))) {
            off.add("asr_server listens on " + bound + ", not " + expected + (lab.emulated() ? " (the emulator's loopback)" : " (F44: every address)"));
        }

        // Which card: device index 0 (F48), never a second card.
        Tool.Result table = lab.smi();
        List<Long> pids = r.pids();
        boolean onZero = SmiParser.table(table.output(), 0).readings().processes().stream().map(CardProcess::pid).anyMatch(pids::contains);
        DeviceHealth one = SmiParser.table(table.output(), 1);
        boolean onOne = one.status() == DeviceHealth.Status.ANSWERING && one.readings().processes().stream().map(CardProcess::pid).anyMatch(pids::contains);
        seen.add("axcl-smi lists it on card 0: " + (onZero ? "yes" : "no") + (one.status() == DeviceHealth.Status.ANSWERING ? ", on card 1: "
                + (onOne ? "yes" : "no") : " (one card)"));
        if (!onZero || onOne) {
            off.add("asr_server (pid " + pids + ") is " + (onOne ? "on card 1" : "not listed on card 0") + " (F48: device index 0 always)");
        }
        String all = String.join("; ", seen);
        return off.isEmpty() ? Verdict.verified(all) : Verdict.differs(String.join("; ", off) + "; " + all);
    }

    /** A model's CMM against the catalog's cmm_mib: within {@code share} of it (64 MiB at least), or it differs. */
    private static void compare(String id, long took, double share, List<String> seen, List<String> off) {
        Optional<ModelCatalog.Entry> e = ModelCatalog.builtIn().find(id);
        String figure = id + " took " + took + " MiB of CMM (axcl-smi before and after)";
        if (e.isEmpty()) {
            seen.add(figure + "; not in the catalog");
            return;
        }
        int catalog = e.get().cmmMib();
        seen.add(figure + "; the catalog says " + catalog + (e.get().estimated() ? " (estimated)" : ""));
        if (Math.abs(took - catalog) > Math.max(64, catalog * share)) {
            off.add(id + " took " + took + " MiB of CMM, the catalog says " + catalog + ": set its cmm_mib in catalog.json to " + took);
        }
    }

    // ---- U32 ----

    static Verdict sensevoice(Lab lab) throws Exception {
        String id = lab.target().sensevoiceModel();
        lab.releaseAll();
        Long before = lab.cmmUsed();
        AsrServerRuntime r = lab.transcriber(id, false);
        long t0 = System.nanoTime();
        r.start(lab.loadTimeout());
        long ms = (System.nanoTime() - t0) / 1_000_000;
        Long after = lab.cmmUsed();
        if (before == null || after == null) {
            return Verdict.differs("axcl-smi info --cmm gave no CMM Used line");
        }
        List<String> seen = new ArrayList<>(List.of("asr_server ready with " + Lab.asrModel(id) + " loaded in " + ms + " ms (A22: 4.26 s)"));
        List<String> off = new ArrayList<>();
        compare(id, after - before, 0.15, seen, off);
        String all = String.join("; ", seen);
        return off.isEmpty() ? Verdict.verified(all) : Verdict.differs(String.join("; ", off) + "; " + all);
    }

    // ---- U33 ----

    static Verdict perPiece(Lab lab) throws Exception {
        String id = lab.target().transcribeModel();
        AsrServerRuntime r = lab.transcriber(id, true);
        r.start(lab.loadTimeout());
        // Silence: what a piece costs before its words (Whisper reads a 30 s mel whatever the length, F45).
        byte[] shortPiece = Wav.write16(new float[2 * 16_000], 16_000);
        byte[] longPiece = Wav.write16(new float[28 * 16_000], 16_000);
        List<Long> shorts = new ArrayList<>();
        List<Long> longs = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            shorts.add(time(r, shortPiece));
            longs.add(time(r, longPiece));
        }
        long s = median(shorts);
        long l = Math.max(1, median(longs));
        double ratio = s / (double) l;
        String figures = String.format(Locale.ROOT, "%s: a 2 s piece in %d ms, a 28 s piece in %d ms (medians of 3: %s, %s; silence), the short "
                + "one %.0f %% of the long; real-time factor at 28 s %.3f (A23: %s)", Lab.asrModel(id), s, l, shorts, longs, ratio * 100,
                l / 28_000.0 / (lab.emulated() ? lab.target().pace() : 1), id.contains("tiny") ? "0.03" : id.contains("small") ? "0.18" : "its RTF");
        lab.note(figures);
        return ratio < 0.6 ? Verdict.verified("the cost follows the length (A23): " + figures)
                : Verdict.differs("a short piece costs about as much as a long one (the 30 s mel): the emulator's pace (AsrServer.Profile) should "
                        + "charge a piece's fixed cost, and the runner should send longer pieces (runtime.window_seconds is the longest): " + figures);
    }

    private static long time(AsrServerRuntime r, byte[] wav) throws Exception {
        long t0 = System.nanoTime();
        r.transcribe(wav, null);
        return (System.nanoTime() - t0) / 1_000_000;
    }

    private static long median(List<Long> values) {
        List<Long> sorted = new ArrayList<>(values);
        sorted.sort(null);
        return sorted.get(sorted.size() / 2);
    }

    private static JsonObject parse(String body) {
        try {
            return body == null ? null : JsonParser.parseString(body).getAsJsonObject();
        } catch (RuntimeException e) {
            return null;
        }
    }
}
