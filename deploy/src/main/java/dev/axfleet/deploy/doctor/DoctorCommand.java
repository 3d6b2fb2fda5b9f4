package dev.axfleet.deploy.doctor;

import dev.axfleet.config.Settings;
import dev.axfleet.deploy.Axfleet;
import dev.axfleet.deploy.UserError;
import dev.axfleet.emulator.TestFault;
import dev.axfleet.worker.runtime.EngineException;
import dev.axfleet.worker.runtime.RuntimeStartException;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/**
 * {@code axfleet doctor}: the first hour with a real card as one command (issue 24). Runs a check for every unverified
 * item of docs/hardware.md that can be checked, each with its time limit, and prints one report: Markdown on standard
 * output for an issue, JSON with {@code --json}. Progress goes to standard error. Exit 0 when no check found the card
 * differing from what axfleet assumes, 1 when one did.
 */
@Command(name = "doctor", description = "Check the card against every unverified item of docs/hardware.md and print a report to paste into an "
        + "issue (Markdown; --json FILE too). Stops axfleet's services around the checks that need the card to themselves and starts them "
        + "again. Exit 0 when nothing differs from what axfleet assumes, 1 when something does.")
public final class DoctorCommand implements Callable<Integer> {
    @ParentCommand
    Axfleet root;

    @Option(names = "--emulated", description = "run every check against axfleet's emulator (started here; no card is used, and the report says so)")
    boolean emulated;

    @Option(names = "--json", paramLabel = "FILE", description = "also write the report as JSON to FILE")
    Path json;

    @Option(names = "--pull", description = "download the models the checks need when they are missing (doctor.chat_model, doctor.second_model, "
            + "doctor.image_model, doctor.vision_model, doctor.transcribe_model, doctor.sensevoice_model); "
            + "without it nothing is downloaded")
    boolean pull;

    @Option(names = "--disruptive", description = "also run the checks that disturb a running installation: a card reboot, a driver reload, "
            + "a runtime signalled mid-answer")
    boolean disruptive;

    @Option(names = "--keep-running", description = "leave axfleet's services running: the checks that need the card to themselves are skipped")
    boolean keepRunning;

    @Option(names = "--only", paramLabel = "ITEM", split = ",", description = "run only the checks for these items (e.g. U3,U13)")
    List<String> only = List.of();

    /** Test-only: {@link TestFault}s the emulator shows (the wrong reading of an item), to prove a check says "differs". */
    @Option(names = "--emulator-fault", hidden = true, split = ",", paramLabel = "FAULT")
    List<String> faults = List.of();

    @Override
    public Integer call() throws IOException {
        // The terminal shows doctor's own progress; the adapters' log lines only when asked for (AXFLEET_LOG_LEVEL=INFO).
        // The residency code logs as "residency" (Room).
        List<ch.qos.logback.classic.Logger> logs = List.of((ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger("dev.axfleet"),
                (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger("residency"));
        List<ch.qos.logback.classic.Level> levels = logs.stream().map(ch.qos.logback.classic.Logger::getLevel).toList();
        if (System.getenv("AXFLEET_LOG_LEVEL") == null) {
            logs.forEach(l -> l.setLevel(ch.qos.logback.classic.Level.WARN));
        }
        try {
            return check();
        } finally {
            for (int i = 0; i < logs.size(); i++) {
                logs.get(i).setLevel(levels.get(i));
            }
        }
    }

    private int check() throws IOException {
        Settings settings = root.settings();
        Set<TestFault> testFaults = EnumSet.noneOf(TestFault.class);
        for (String f : faults) {
            try {
                testFaults.add(TestFault.parse(f));
            } catch (IllegalArgumentException e) {
                throw new UserError("--emulator-fault: no test fault " + f);
            }
        }
        if (!testFaults.isEmpty() && !emulated) {
            throw new UserError("--emulator-fault is the emulator's: add --emulated");
        }
        PrintStream err = root.err();
        Target target = emulated ? new EmulatedTarget(settings, testFaults) : new CardTarget(settings);
        if (!emulated && !Files.exists(target.monitor().deviceNode())) {
            err.println("doctor: no card here (" + target.monitor().deviceNode() + " is missing): the checks will say what is missing; "
                    + "`axfleet doctor --emulated` runs them against axfleet's emulator instead");
        }
        err.println("doctor: checking " + target.describe());
        List<String> preamble = new ArrayList<>();
        if (emulated) {
            preamble.add("EMULATED: axfleet's services were not touched; the emulator's folder is " + target.stateDir());
        }
        if (pull && !emulated) {
            preamble.addAll(pullMissing(settings, err));
        }
        Map<String, String> versions = target.versions();
        List<Result> results = new ArrayList<>();
        Services services = new Services(settings);
        boolean alone = false;
        try (Lab lab = new Lab(target, settings)) {
            for (Check check : Checks.all()) {
                Verdict skip = gate(check);
                Result r = skip == null ? null : new Result(check, skip, List.of(), 0);
                if (r == null) {
                    if (check.needsCardAlone() && !alone && !emulated) {
                        String said = services.stop();
                        preamble.add(said);
                        err.println("doctor: " + said);
                        alone = true;
                    }
                    err.println("doctor: " + check.id() + " " + check.title() + " (up to " + check.limit().toSeconds() + " s)...");
                    r = timed(lab, check);
                }
                results.add(r);
                if (!r.verdict().text().startsWith("not asked for")) {
                    err.println("doctor: " + Report.progress(r, emulated));
                }
            }
        } finally {
            String said = services.start();
            if (said != null) {
                preamble.add(said);
                err.println("doctor: " + said);
            }
            target.close();
        }
        Report report = new Report(new Report.Run(emulated, target.describe(), commandLine(), dev.axfleet.config.Settings.hostname(), Instant.now(),
                versions, preamble, results, HardwareItems.bundled(), shownSettings(settings, target)), new Redactor(settings, System.getenv()));
        root.out().print(report.markdown());
        root.out().flush();
        if (json != null) {
            Files.writeString(json, report.jsonText(), StandardCharsets.UTF_8);
            err.println("doctor: JSON report in " + json);
        }
        boolean differs = results.stream().anyMatch(r -> r.verdict().kind() == Verdict.Kind.DIFFERS);
        err.println("doctor: " + (differs ? "some items differ from what axfleet assumes" : "nothing differs from what axfleet assumes")
                + (emulated ? " (EMULATED)" : "") + ". " + Report.SEND_TO);
        return differs ? 1 : 0;
    }

    /** Why a check is not run (skipped), or null to run it. */
    private Verdict gate(Check check) {
        if (!only.isEmpty() && only.stream().noneMatch(check.items()::contains)) {
            return Verdict.skipped("not asked for (--only " + String.join(",", only) + ")");
        }
        if (check.disruptive() && !disruptive) {
            return Verdict.skipped("disruptive (it reboots the card, reloads the driver or signals a runtime mid-answer): run with --disruptive when "
                    + "the installation may be disturbed");
        }
        if (check.needsCardAlone() && keepRunning) {
            return Verdict.skipped("needs the card to itself, and --keep-running leaves axfleet's services running");
        }
        return null;
    }

    /** Runs one check under its time limit; whatever it started for itself is stopped after. */
    static Result timed(Lab lab, Check check) {
        ExecutorService one = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "doctor-" + check.id());
            t.setDaemon(true);
            return t;
        });
        long t0 = System.nanoTime();
        Verdict v;
        Future<Verdict> f = one.submit(() -> check.body().run(lab));
        try {
            v = f.get(check.limit().toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            f.cancel(true);
            v = Verdict.differs("did not finish within its limit of " + check.limit().toSeconds() + " s (what it saw so far is below)");
        } catch (ExecutionException e) {
            v = verdictOf(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            f.cancel(true);
            v = Verdict.skipped("interrupted");
        } finally {
            one.shutdownNow();
        }
        lab.endCheck();
        long ms = (System.nanoTime() - t0) / 1_000_000;
        return new Result(check, v, lab.takeEvidence(), ms);
    }

    static Verdict verdictOf(Throwable e) {
        if (e instanceof Verdict.Skip s) {
            return Verdict.skipped(s.getMessage());
        }
        if (e instanceof RuntimeStartException) {
            return Verdict.differs("the runtime did not start: " + e.getMessage());
        }
        if (e instanceof EngineException x) {
            return Verdict.differs("the runtime failed (" + x.kind().name().toLowerCase(java.util.Locale.ROOT) + "): " + x.getMessage());
        }
        return Verdict.differs("the check could not finish: " + e);
    }

    private List<String> pullMissing(Settings s, PrintStream err) {
        List<String> notes = new ArrayList<>();
        Path models = Path.of(s.string("models.dir", "/var/lib/axfleet/models"));
        for (String id : List.of(s.string("doctor.chat_model", "qwen3-1.7b"), s.string("doctor.second_model", "qwen3-0.6b"),
                s.string("doctor.image_model", "sd15-lcm"), s.string("doctor.vision_model", "internvl3-1b"),
                s.string("doctor.transcribe_model", "whisper-tiny"), s.string("doctor.sensevoice_model", "sensevoice"))) {
            if (Files.isDirectory(models.resolve(id))) {
                continue;
            }
            err.println("doctor: --pull: axfleet models pull " + id);
            int exit = Axfleet.run(new String[] {"models", "pull", id}, s, err, err);
            notes.add("--pull: `axfleet models pull " + id + "` " + (exit == 0 ? "downloaded it" : "failed (exit " + exit + "; its output is above)"));
        }
        return notes;
    }

    private String commandLine() {
        StringBuilder sb = new StringBuilder("axfleet doctor");
        if (emulated) {
            sb.append(" --emulated");
        }
        if (disruptive) {
            sb.append(" --disruptive");
        }
        if (keepRunning) {
            sb.append(" --keep-running");
        }
        if (pull) {
            sb.append(" --pull");
        }
        if (!only.isEmpty()) {
            sb.append(" --only ").append(String.join(",", only));
        }
        if (!faults.isEmpty()) {
            sb.append(" --emulator-fault ").append(String.join(",", faults)).append(" (TEST FAULT)");
        }
        if (json != null) {
            sb.append(" --json ").append(json);
        }
        return sb.toString();
    }

    /** The settings that shaped this run, as the report lists them (secrets redacted there). */
    private static Map<String, String> shownSettings(Settings s, Target target) {
        Map<String, String> out = new LinkedHashMap<>();
        out.put("(source)", s.source());
        for (String key : List.of("card.index", "runtime.kind", "runtime.command", "runtime.env", "runtime.load_timeout", "runtime.first_token_timeout",
                "runtime.stall_timeout", "runtime.stop_grace", "runtime.server_timeout", "runtime.axcl_library", "monitor.probe", "monitor.axcl_smi",
                "monitor.modprobe", "monitor.device_node", "monitor.libaxcl", "monitor.probe_timeout", "monitor.reboot_wait", "monitor.reload_wait",
                "models.dir", "models.host", "models.token", "gateway.port", "broker.url", "worker.mqtt_password", "doctor.chat_model",
                "doctor.second_model", "doctor.image_model", "doctor.vision_model", "doctor.transcribe_model", "doctor.sensevoice_model",
                "doctor.asr_command", "doctor.speech_model", "fleet.stackflow_port", "models.margin_mib", "models.evict_wait", "worker.card_lock", "doctor.state_dir", "doctor.legacy_command", "doctor.legacy_dir", "doctor.time_scale", "doctor.systemctl")) {
            String v = s.string(key, null);
            if (v != null) {
                out.put(key, v);
            }
        }
        out.put("(doctor's folder)", target.stateDir().toString());
        return out;
    }
}
