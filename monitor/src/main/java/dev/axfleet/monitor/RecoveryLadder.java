package dev.axfleet.monitor;

import dev.axfleet.broker.CardRef;
import dev.axfleet.broker.WorkerState;
import dev.axfleet.monitor.probe.Tool;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The recovery steps for one card, weakest first, as they were practised on this hardware
 * (../shared/axera.md §8.3): stop and restart the runtimes, stop stray card users, reboot the card
 * ({@code axcl-smi reboot -d N}, answering its y/n prompt), reload the driver in the package's module order,
 * and (off unless configured) reboot the host. Every step is published as an event, is followed by a
 * health check, and the climb stops at the first step after which the card answers again.
 */
final class RecoveryLadder {
    /** Unload order (AXERA-TECH/axcl-runtime:build/package/deb/prerm). Loading goes the other way (postinst). */
    static final List<String> MODULES_UNLOAD = List.of("ax_pcie_p2p_rc", "axcl_host", "ax_pcie_mmb", "ax_pcie_msg", "ax_pcie_host_dev");

    /** The steps, in the order they are tried. */
    enum Step {
        RESTART_RUNTIMES("restart-runtimes"),
        STOP_STRAYS("stop-strays"),
        CARD_REBOOT("card-reboot"),
        DRIVER_RELOAD("driver-reload"),
        HOST_REBOOT("host-reboot");

        final String wire;

        Step(String wire) {
            this.wire = wire;
        }
    }

    /** What the ladder needs from the card's watch: health checks and the "resetting" flag. */
    interface Card {
        /** Probes until the card answers (publishing each probe's health) or {@code max} passes. */
        boolean awaitAnswering(Duration max);

        /** Whether the card answered the last probe. */
        boolean answering();

        /** Pids the card itself lists as its users (axcl-smi's process rows), from the last probe. */
        List<Long> listedUsers();

        /** Marks the card as being reset (workers release their runtimes) or not. */
        void resetting(boolean on);
    }

    /** How a climb ended: whether the card answers again, and the last step tried. */
    record Outcome(boolean recovered, Step reached, List<String> tried) {
    }

    private record Result(String result, String detail) {
        static Result ok(String detail) {
            return new Result("ok", detail);
        }

        static Result failed(String detail) {
            return new Result("failed", detail);
        }

        static Result skipped(String detail) {
            return new Result("skipped", detail);
        }
    }

    private final MonitorConfig config;
    private final CardRef ref;
    private final MonitorBus bus;
    private final CardUsers users;
    private final boolean probeHoldsCard;
    private final Card card;

    RecoveryLadder(MonitorConfig config, CardRef ref, MonitorBus bus, CardUsers users, boolean probeHoldsCard, Card card) {
        this.config = config;
        this.ref = ref;
        this.bus = bus;
        this.users = users;
        this.probeHoldsCard = probeHoldsCard;
        this.card = card;
    }

    /** Climbs from {@code from} until the card answers or the steps run out. */
    Outcome climb(Step from, String cause) {
        List<String> tried = new ArrayList<>();
        Step reached = from;
        try {
            for (Step step : Step.values()) {
                if (step.ordinal() < from.ordinal()) {
                    continue;
                }
                reached = step;
                bus.event(ref, step.wire, "started", cause);
                Result r;
                try {
                    r = run(step);
                } catch (RuntimeException e) {
                    r = Result.failed(e.toString());
                }
                bus.event(ref, step.wire, r.result(), r.detail());
                if (!r.result().equals("skipped")) {
                    tried.add(step.wire);
                }
                if (r.result().equals("ok")) {
                    bus.event(ref, "recovered", "ok", "the card answers again after " + step.wire);
                    return new Outcome(true, step, tried);
                }
            }
            return new Outcome(false, reached, tried);
        } finally {
            card.resetting(false);
        }
    }

    private Result run(Step step) {
        return switch (step) {
            case RESTART_RUNTIMES -> restartRuntimes();
            case STOP_STRAYS -> stopStrays();
            case CARD_REBOOT -> cardReboot();
            case DRIVER_RELOAD -> driverReload();
            case HOST_REBOOT -> hostReboot();
        };
    }

    private Result restartRuntimes() {
        List<WorkerState> workers = bus.workersOn(ref);
        if (workers.isEmpty()) {
            return Result.skipped("no worker runs on this card");
        }
        if (card.answering()) {
            workers.forEach(w -> bus.restartRuntime(w, "the monitor's recovery of card " + ref));
            return card.awaitAnswering(config.settle()) ? Result.ok("asked " + names(workers) + " to restart their runtimes")
                    : Result.failed("the card stopped answering");
        }
        // A card that does not answer makes each worker stop its runtime by itself (the card is "lost").
        boolean released = awaitReleased(config.settle());
        String what = (released ? "" : "not all of ") + names(workers) + " stopped their runtimes";
        return card.awaitAnswering(config.settle()) ? Result.ok(what) : Result.failed(what + "; the card still does not answer");
    }

    private Result stopStrays() {
        Set<Long> own = new LinkedHashSet<>();
        bus.workersOn(ref).forEach(w -> own.addAll(w.runtimePids()));
        Set<Long> strays = new LinkedHashSet<>(users.holders());
        strays.addAll(card.listedUsers());
        strays.removeAll(own);
        strays.remove(ProcessHandle.current().pid());
        if (strays.isEmpty()) {
            return Result.skipped("no stray card users");
        }
        List<String> described = strays.stream().map(CardUsers::describe).toList();
        List<Long> left = users.stop(strays);
        String detail = "stopped " + described + (left.isEmpty() ? "" : "; still running (not killed: SIGKILL wedges the card): " + left);
        return card.awaitAnswering(config.settle()) ? Result.ok(detail) : Result.failed(detail + "; the card still does not answer");
    }

    private Result cardReboot() {
        card.resetting(true);
        awaitReleased(config.settle());
        List<String> command = new ArrayList<>(config.axclSmi());
        command.addAll(List.of("reboot", "-d", String.valueOf(ref.index())));
        String last = "";
        for (int attempt = 1; attempt <= config.rebootAttempts(); attempt++) {
            Tool.Result r = Tool.run(command, "y\n", Duration.ofSeconds(30));
            last = r.startError() != null ? "axcl-smi cannot run: " + r.startError()
                    : r.timedOut() ? "axcl-smi reboot did not finish in 30 s" : Tool.oneLine(r.output(), 200);
            if (r.startError() == null && !r.timedOut() && card.awaitAnswering(config.rebootWait())) {
                return Result.ok("attempt " + attempt + ": " + last);
            }
            bus.event(ref, Step.CARD_REBOOT.wire, "retry", "attempt " + attempt + " of " + config.rebootAttempts()
                    + ": the card did not answer within " + config.rebootWait() + " (" + last + ")");
        }
        return Result.failed("the card did not come back after " + config.rebootAttempts() + " reboots (" + last + ")");
    }

    private Result driverReload() {
        if (config.driverReload().equals("off")) {
            return Result.skipped("off (monitor.driver_reload=off)");
        }
        if (config.driverReload().equals("auto") && uid() != 0) {
            return Result.skipped("needs root (the monitor runs as uid " + uid() + "); set monitor.driver_reload=on with a "
                    + "monitor.modprobe that may unload modules, e.g. \"sudo -n /usr/sbin/modprobe\"");
        }
        if (probeHoldsCard) {
            return Result.skipped("the libaxcl probe holds the card open; use monitor.probe=axcl-smi to allow driver reloads");
        }
        card.resetting(true);
        awaitReleased(config.settle());
        List<Long> holders = users.holders();
        if (!holders.isEmpty()) {
            return Result.skipped("processes still use the card: " + holders.stream().map(CardUsers::describe).toList());
        }
        List<String> unload = new ArrayList<>(config.modprobe());
        unload.add("-r");
        unload.addAll(MODULES_UNLOAD);
        Tool.Result r = Tool.run(unload, null, Duration.ofSeconds(60));
        if (!r.ok()) {
            return Result.failed("modprobe -r failed: " + Tool.oneLine(r.output() + (r.startError() == null ? "" : r.startError()), 200));
        }
        List<String> loadOrder = new ArrayList<>(MODULES_UNLOAD);
        java.util.Collections.reverse(loadOrder);
        for (String module : loadOrder) {
            List<String> load = new ArrayList<>(config.modprobe());
            load.add(module);
            Tool.Result l = Tool.run(load, null, Duration.ofSeconds(60));
            if (!l.ok()) {
                return Result.failed("modprobe " + module + " failed: " + Tool.oneLine(l.output(), 200));
            }
        }
        return card.awaitAnswering(config.reloadWait()) ? Result.ok("modules unloaded and loaded again")
                : Result.failed("the card did not answer within " + config.reloadWait() + " of the reload");
    }

    private Result hostReboot() {
        if (config.hostReboot().isEmpty()) {
            return Result.skipped("off (set monitor.host_reboot, e.g. \"sudo -n /usr/bin/systemctl reboot\", to allow it)");
        }
        Tool.Result r = Tool.run(config.hostReboot(), null, Duration.ofSeconds(60));
        if (!r.ok()) {
            return Result.failed("host reboot command failed: " + Tool.oneLine(r.output(), 200));
        }
        return card.awaitAnswering(config.settle()) ? Result.ok("host reboot command ran") : Result.failed("host reboot command ran; "
                + "the card still does not answer");
    }

    /** Waits until no worker on the card has runtime processes (they pause on "lost" and "resetting"). */
    private boolean awaitReleased(Duration max) {
        long deadline = System.nanoTime() + max.toNanos();
        while (System.nanoTime() < deadline) {
            if (bus.workersOn(ref).stream().allMatch(w -> w.runtimePids().isEmpty())) {
                return true;
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return false;
    }

    private static String names(List<WorkerState> workers) {
        return workers.stream().map(WorkerState::worker).toList().toString();
    }


    /** This process's real uid, from /proc (no JDK module needed). */
    static long uid() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Uid:")) {
                    return Long.parseLong(line.substring(4).strip().split("\\s+")[0]);
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }
}
