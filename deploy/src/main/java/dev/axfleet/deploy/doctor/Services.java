package dev.axfleet.deploy.doctor;

import dev.axfleet.config.Settings;
import dev.axfleet.monitor.probe.Tool;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * axfleet's systemd services around the checks that need the card to themselves: the active {@code axfleet-*} units are
 * stopped before the first such check and started again after the last (and on Ctrl-C). {@code doctor.systemctl} names
 * the program (tests give a stand-in); without systemd nothing is stopped, and the report says so.
 */
final class Services {
    private final List<String> systemctl;
    private final boolean present;
    private final List<String> stopped = new ArrayList<>();
    private Thread hook;

    Services(Settings s) {
        String configured = s.string("doctor.systemctl", null);
        this.systemctl = List.of(configured != null ? configured : "systemctl");
        this.present = configured != null || Files.isDirectory(Path.of("/run/systemd/system"));
    }

    /** Stops the active axfleet units; returns what the report says about it. */
    String stop() {
        if (!present) {
            return "skipped: no systemd here, so axfleet's services were not stopped; nothing else may use the card during the checks";
        }
        Tool.Result list = run("list-units", "--type=service", "--state=active", "--plain", "--no-legend", "axfleet-*");
        List<String> units = list.output().lines().map(String::strip).filter(l -> l.startsWith("axfleet-")).map(l -> l.split("\\s+")[0]).toList();
        if (units.isEmpty()) {
            return "no axfleet service was running";
        }
        hook = new Thread(this::start, "doctor-restart-services");
        Runtime.getRuntime().addShutdownHook(hook);
        Tool.Result r = run(concat("stop", units));
        stopped.addAll(units);
        return "stopped " + String.join(" ", units) + " for the checks that need the card to themselves" + (r.ok() ? ""
                : " (systemctl stop said: " + Tool.oneLine(r.output(), 160) + ")") + "; they are started again at the end";
    }

    /** Starts again what {@link #stop} stopped; returns what the report says, or null when nothing was stopped. */
    String start() {
        if (stopped.isEmpty()) {
            return null;
        }
        Tool.Result r = run(concat("start", stopped));
        String said = "started " + String.join(" ", stopped) + " again" + (r.ok() ? "" : " (systemctl start said: " + Tool.oneLine(r.output(), 160)
                + "; start them by hand)");
        stopped.clear();
        if (hook != null && Thread.currentThread() != hook) {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // Shutting down already: the hook runs this.
            }
        }
        return said;
    }

    private static List<String> concat(String verb, List<String> units) {
        List<String> out = new ArrayList<>(List.of(verb));
        out.addAll(units);
        return out;
    }

    private Tool.Result run(String... args) {
        return run(List.of(args));
    }

    private Tool.Result run(List<String> args) {
        List<String> command = new ArrayList<>(systemctl);
        command.addAll(args);
        return Tool.run(command, null, Duration.ofMinutes(6));
    }
}
