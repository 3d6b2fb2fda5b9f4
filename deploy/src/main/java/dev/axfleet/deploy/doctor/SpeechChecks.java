package dev.axfleet.deploy.doctor;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import dev.axfleet.broker.CardProcess;
import dev.axfleet.config.Settings;
import dev.axfleet.deploy.doctor.Check.Need;
import dev.axfleet.deploy.models.ModelCatalog;
import dev.axfleet.worker.WorkerConfig;
import dev.axfleet.worker.speech.StackFlowTtsRuntime;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * StackFlow's melotts unit behind llm-sys (docs/hardware.md U35-U37, F49-F54, A25, A26, A28): on the wire as
 * {@code nc 127.0.0.1 10001} shows it ({@link StackFlowWire}: lsmode, setup, the inference's lines, a second setup, exit),
 * then through the worker's adapter ({@link StackFlowTtsRuntime}, from a speech worker's settings): the same text, the speed
 * a new setup gives, and the unit's processes as the worker names them to the monitor.
 */
final class SpeechChecks {
    /** hardware.md U35's text: three phrases, braces llm-sys must not count (F49), a breakpoint at the end (F51). */
    static final String TEXT = "Hello there. A second phrase, and {braces}!";
    private static final Set<Need> ALONE = Set.of(Need.CARD_ALONE);

    private SpeechChecks() {
    }

    static List<Check> all() {
        return List.of(
                Check.of("U35", "StackFlow's melotts unit through llm-sys", Duration.ofMinutes(4), ALONE,
                        List.of("F49", "F50", "F51", "F52", "F53", "F54", "A25", "A26", "A28"), SpeechChecks::unit),
                Check.of("U36", "speed through setup", Duration.ofMinutes(3), ALONE, List.of("F50"), SpeechChecks::speed),
                Check.of("U37", "the unit's processes", Duration.ofMinutes(2), ALONE, List.of(), SpeechChecks::processes));
    }

    /** The adapter's settings as a speech worker reads them. */
    static StackFlowTtsRuntime.Config config(Settings s) {
        return ((WorkerConfig.StackFlowTts) WorkerConfig.from(s).runtime()).config();
    }

    // ---- U35 ----

    static Verdict unit(Lab lab) throws Exception {
        lab.releaseAll();
        StackFlowTtsRuntime.Config c = config(lab.target().speechWorker(false));
        Long before = lab.cmmUsed();
        List<String> off = new ArrayList<>();
        List<String> seen = new ArrayList<>();
        int rate;
        List<StackFlowWire.Line> spoken = new ArrayList<>();
        long wireSamples = 0;
        try (StackFlowWire w = StackFlowWire.open(c.host(), c.port())) {
            StackFlowWire.Line modes = w.call("1", "sys", "lsmode", "None", StackFlowWire.none(), Duration.ofSeconds(10));
            JsonObject mode = mode(modes, c.mode());
            if (mode == null) {
                lab.note("sys.lsmode -> " + (modes == null ? "nothing" : ToolChecks.oneLine(modes.json().toString(), 600)));
                throw new Verdict.Skip("StackFlow lists no mode " + c.mode() + " (sys.lsmode): sudo apt install llm-model-" + c.mode());
            }
            JsonObject param = mode.has("mode_param") && mode.get("mode_param").isJsonObject() ? mode.getAsJsonObject("mode_param") : new JsonObject();
            rate = param.has("audio_rate") ? param.get("audio_rate").getAsInt() : -1;
            seen.add("lsmode: " + c.mode() + " with audio_rate " + param.get("audio_rate") + ", mode_rate " + param.get("mode_rate")
                    + ", spacker_speed " + param.get("spacker_speed") + " (F54: 16000, 44100, 1.2)");
            if (rate <= 0) {
                off.add("the mode file has no audio_rate (F53, F54): the adapter takes 16 kHz");
                rate = 16_000;
            }

            // setup, timed (the model loads then: A26), and the CMM it took.
            StackFlowWire.Line setup = w.call("2", "melotts", "setup", "melotts.setup", setupData(c.mode(), null), lab.loadTimeout());
            if (setup == null || setup.code() != 0) {
                return Verdict.differs("setup of " + c.mode() + " answered " + (setup == null ? "nothing within " + lab.loadTimeout().toSeconds()
                        + " s" : setup.json()) + " (F50: code 0 and the work id)");
            }
            String workId = setup.string("work_id");
            Long after = lab.cmmUsed();
            seen.add("setup answered in " + setup.ms() + " ms as " + workId + " (A26: 2 s)");
            if (workId == null || !workId.matches("melotts\\.\\d+")) {
                off.add("setup's work_id is " + workId + " (F50: melotts.N)");
            }
            unitCmm(lab, c, before, after, seen, off);

            // inference: one line per phrase, in order, the last with finish (F51).
            w.send("3", workId, "inference", "tts.utf-8", new JsonPrimitive(TEXT));
            while (true) {
                StackFlowWire.Line l = w.next(c.stall());
                if (l == null) {
                    off.add("the inference's lines stopped after " + spoken.size() + " without one with finish (waited " + c.stall().toSeconds() + " s)");
                    break;
                }
                if (!"3".equals(l.string("request_id")) && spoken.isEmpty() && l.code() == 0) {
                    lab.note("a line for another request: " + ToolChecks.oneLine(l.json().toString(), 200));
                    continue;
                }
                spoken.add(l);
                JsonObject d = l.json().has("data") && l.json().get("data").isJsonObject() ? l.json().getAsJsonObject("data") : null;
                if (l.code() != 0 || d == null || finish(d)) {
                    break;
                }
            }
            int index = -1;
            for (int i = 0; i < spoken.size(); i++) {
                StackFlowWire.Line l = spoken.get(i);
                JsonObject d = l.json().has("data") && l.json().get("data").isJsonObject() ? l.json().getAsJsonObject("data") : new JsonObject();
                byte[] pcm = d.has("delta") && !d.get("delta").getAsString().isEmpty() ? Base64.getDecoder().decode(d.get("delta").getAsString()) : new byte[0];
                wireSamples += pcm.length / 2;
                lab.note(String.format(Locale.ROOT, "line %d at %d ms: request_id %s, object %s, index %s, finish %s, %d bytes of PCM (%.2f s at %d Hz)%s",
                        i + 1, l.ms(), l.string("request_id"), l.string("object"), d.get("index"), d.get("finish"), pcm.length, pcm.length / 2.0 / rate,
                        rate, l.code() == 0 ? "" : ", error " + l.code() + " " + l.message()));
                if (l.code() != 0) {
                    off.add("line " + (i + 1) + " is error " + l.code() + " \"" + l.message() + "\"");
                    continue;
                }
                if (!"3".equals(l.string("request_id"))) {
                    off.add("line " + (i + 1) + " carries request_id " + l.string("request_id") + ", not the inference's \"3\" (the adapter matches on it)");
                }
                Integer at = d.has("index") && d.get("index").isJsonPrimitive() ? d.get("index").getAsInt() : null;
                if (at == null || index >= 0 && at != index + 1) {
                    off.add("line " + (i + 1) + "'s index is " + at + " after " + index + " (F51: counting up)");
                }
                index = at == null ? index : at;
                if (finish(d) != (i == spoken.size() - 1)) {
                    off.add("line " + (i + 1) + " has finish " + finish(d) + " (F51: true on the last only)");
                }
            }
            long phrases = spoken.stream().filter(l -> l.code() == 0).count();
            seen.add("the inference came as " + phrases + " lines (" + String.format(Locale.ROOT, "%.2f", wireSamples / (double) rate)
                    + " s of audio; F51 expects 3 phrases and an empty finishing line for this text)");
            if (phrases < 3 || wireSamples == 0) {
                off.add("the inference gave " + phrases + " lines and " + wireSamples + " samples (F51: a line per phrase, 3 phrases)");
            }

            // One task (F50): a second setup on another connection is refused.
            try (StackFlowWire w2 = StackFlowWire.open(c.host(), c.port())) {
                StackFlowWire.Line again = w2.call("4", "melotts", "setup", "melotts.setup", setupData(c.mode(), null), lab.loadTimeout());
                lab.note("a second setup on another connection -> " + (again == null ? "nothing" : again.json()));
                if (again == null || again.code() != -21) {
                    off.add("a second setup on another connection answered " + (again == null ? "nothing" : again.code() + " \"" + again.message() + "\"")
                            + " (F50: -21 \"task full\", one task)");
                    if (again != null && again.code() == 0 && again.string("work_id") != null) {
                        w2.call("4x", again.string("work_id"), "exit", "None", StackFlowWire.none(), Duration.ofSeconds(10));
                    }
                } else {
                    seen.add("a second setup: -21 \"" + again.message() + "\"");
                }
            }

            // exit releases the task; an unknown one is -6 (F50).
            StackFlowWire.Line exit = w.call("5", workId, "exit", "None", StackFlowWire.none(), Duration.ofSeconds(10));
            StackFlowWire.Line exitAgain = w.call("6", workId, "exit", "None", StackFlowWire.none(), Duration.ofSeconds(10));
            seen.add("exit: " + (exit == null ? "nothing" : exit.code()) + ", again: " + (exitAgain == null ? "nothing" : exitAgain.code() + " \""
                    + exitAgain.message() + "\""));
            if (exit == null || exit.code() != 0) {
                off.add("exit of " + workId + " answered " + (exit == null ? "nothing" : exit.json()) + " (F50: code 0)");
            }
            if (exitAgain == null || exitAgain.code() != -6) {
                off.add("a second exit of " + workId + " answered " + (exitAgain == null ? "nothing" : exitAgain.json()) + " (F50: -6 \"Unit Does Not Exist\")");
            }
        }

        // The same text through the worker's adapter.
        StackFlowTtsRuntime r = lab.speaker();
        r.start(lab.loadTimeout());
        List<Integer> pieces = new ArrayList<>();
        long t0 = System.nanoTime();
        r.speak(TEXT, r.voices().get(0), 1.0, (pcm, last) -> pieces.add(pcm.length / 2), () -> false);
        long ms = (System.nanoTime() - t0) / 1_000_000;
        long samples = pieces.stream().mapToLong(Integer::longValue).sum();
        seen.add("through the adapter (" + r.sampleRate() + " Hz): " + pieces.size() + " pieces, " + String.format(Locale.ROOT, "%.2f", samples
                / (double) r.sampleRate()) + " s of audio in " + ms + " ms");
        if (pieces.size() != spoken.size() || samples < wireSamples / 2 || samples > wireSamples * 2) {
            off.add("the adapter got " + pieces.size() + " pieces and " + samples + " samples, the wire " + spoken.size() + " lines and " + wireSamples);
        }
        String all = String.join("; ", seen);
        return off.isEmpty() ? Verdict.verified(all) : Verdict.differs(String.join("; ", off) + "; " + all);
    }

    /** The setup the adapter sends (F50, F54), at {@code speed} when not null. */
    static JsonObject setupData(String mode, Double speed) {
        JsonObject data = new JsonObject();
        data.addProperty("model", mode);
        data.addProperty("response_format", "pcm.stream.base64");
        data.addProperty("input", "tts.utf-8");
        data.addProperty("enoutput", true);
        if (speed != null) {
            data.addProperty("spacker_speed", speed);
        }
        return data;
    }

    private static boolean finish(JsonObject data) {
        return data.has("finish") && data.get("finish").isJsonPrimitive() && data.get("finish").getAsBoolean();
    }

    private static JsonObject mode(StackFlowWire.Line modes, String name) {
        if (modes == null || !modes.json().has("data") || !modes.json().get("data").isJsonArray()) {
            return null;
        }
        for (JsonElement m : modes.json().getAsJsonArray("data")) {
            if (m.isJsonObject() && m.getAsJsonObject().has("mode") && name.equals(m.getAsJsonObject().get("mode").getAsString())) {
                return m.getAsJsonObject();
            }
        }
        return null;
    }

    /** The unit's CMM: what setup added, or (the unit holds it once taken, A26) what axcl-smi lists for its process. */
    private static void unitCmm(Lab lab, StackFlowTtsRuntime.Config c, Long before, Long after, List<String> seen, List<String> off) {
        long took = before == null || after == null ? 0 : after - before;
        String how = "setup added";
        if (took <= 0) {
            took = lab.smiProbe().probe(0).readings().processes().stream().filter(p -> p.name().contains(c.processName()))
                    .mapToLong(CardProcess::npuMemoryKiB).sum() / 1024;
            how = "the card lists for " + c.processName() + " (set up before since it started: A26 holds it)";
        }
        int catalog = ModelCatalog.builtIn().find(lab.target().speechModel()).map(ModelCatalog.Entry::cmmMib).orElse(58);
        seen.add("CMM: " + took + " MiB (" + how + "; the catalog says " + catalog + ", A26)");
        if (Math.abs(took - catalog) > Math.max(24, catalog * 0.4)) {
            off.add("the unit holds " + took + " MiB of CMM, the catalog says " + catalog + ": set cmm_mib of " + lab.target().speechModel()
                    + " (and its other voices) to the measured figure");
        }
    }

    // ---- U36 ----

    static Verdict speed(Lab lab) throws Exception {
        StackFlowTtsRuntime r = lab.speaker();
        r.start(lab.loadTimeout());
        String text = "Hello there. A second phrase.";
        long[] at1 = speak(r, text, 1.0);
        long[] at2 = speak(r, text, 2.0);
        double ratio = at2[0] / (double) Math.max(1, at1[0]);
        String figures = String.format(Locale.ROOT, "at the mode's speed %.2f s of audio (%d ms), at twice it (a new setup with spacker_speed "
                + "twice the mode's: 2.4 for the English modes) %.2f s (%d ms, the setup included): %.0f %% as long", at1[0] / (double) r.sampleRate(),
                at1[1], at2[0] / (double) r.sampleRate(), at2[1], ratio * 100);
        return ratio >= 0.35 && ratio <= 0.65 ? Verdict.verified("speed through setup halves the audio (F50): " + figures)
                : Verdict.differs("speed through setup does not halve the audio (F50; the worker's speed is the setup's spacker_speed): " + figures);
    }

    /** {samples, ms} of {@code text} spoken at {@code speed}. */
    private static long[] speak(StackFlowTtsRuntime r, String text, double speed) throws Exception {
        long[] samples = {0};
        long t0 = System.nanoTime();
        r.speak(text, r.voices().get(0), speed, (pcm, last) -> samples[0] += pcm.length / 2, () -> false);
        return new long[] {samples[0], (System.nanoTime() - t0) / 1_000_000};
    }

    // ---- U37 ----

    static Verdict processes(Lab lab) throws Exception {
        StackFlowTtsRuntime.Config c = config(lab.target().speechWorker(false));
        StackFlowTtsRuntime r = lab.speaker();
        r.start(lab.loadTimeout());
        List<Long> pids = r.pids();
        List<CardProcess> listed = lab.smiProbe().probe(0).readings().processes();
        List<String> users = new ArrayList<>();
        for (CardProcess p : listed) {
            users.add(p.pid() + " " + p.name() + " (/proc comm " + comm(p.pid()) + ", " + p.npuMemoryKiB() / 1024 + " MiB)");
        }
        String service = lab.target().speechService();
        lab.note("the card's users: " + (users.isEmpty() ? "none" : String.join("; ", users)));
        lab.note("the unit's service: " + service);
        String seen = "the worker names pids " + pids + " (/proc/PID/comm " + c.processName() + ", runtime.process_name) to the monitor; the card lists "
                + (users.isEmpty() ? "no process" : String.join("; ", users)) + "; " + service;
        if (pids.isEmpty()) {
            return Verdict.differs("no process is named " + c.processName() + " (runtime.process_name): the monitor would take the unit for a stray; "
                    + "set runtime.process_name to the /proc comm of the unit's process above; " + seen);
        }
        boolean known = listed.stream().anyMatch(p -> pids.contains(p.pid()));
        return known ? Verdict.verified(seen) : Verdict.differs("none of the card's users is among the pids the worker names: " + seen);
    }

    private static String comm(long pid) {
        try {
            return Files.readString(Path.of("/proc", String.valueOf(pid), "comm")).strip();
        } catch (IOException e) {
            return "unreadable";
        }
    }
}
