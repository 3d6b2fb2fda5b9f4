package dev.axfleet.monitor;

import dev.axfleet.broker.CardHealth;
import dev.axfleet.broker.CardProcess;
import dev.axfleet.broker.CardRef;
import dev.axfleet.broker.CardState;
import dev.axfleet.broker.Command;
import dev.axfleet.broker.WorkerState;
import dev.axfleet.monitor.probe.DeviceHealth;
import dev.axfleet.monitor.probe.DeviceProbe;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One card, watched on its own thread: probe every interval, publish its health, and decide when to climb
 * the {@link RecoveryLadder}: the card has not answered for {@code lost_after} probes (outside the grace
 * after start or a reset), its workers' jobs ran past their time limit {@code strikes} times within the
 * window, or a reset was requested. Climbs are limited to {@code max_recoveries} per window; past that, or
 * when the ladder runs out of steps, the card is marked "needs a person" and nothing more is tried until
 * it answers again or a person asks for a reset.
 */
final class CardWatch implements Runnable, RecoveryLadder.Card {
    private static final Logger log = LoggerFactory.getLogger(CardWatch.class);

    private final MonitorConfig config;
    private final CardRef ref;
    private final DeviceProbe probe;
    private final MonitorBus bus;
    private final Clock clock;
    private final ThermalGuard thermal;
    private final RecoveryLadder ladder;
    private final BlockingQueue<Command> requests = new LinkedBlockingQueue<>();
    private final Deque<Instant> recoveries = new ArrayDeque<>();
    private final Deque<Instant> strikes = new ArrayDeque<>();
    private final Map<String, Long> strikesSeen = new HashMap<>();
    private volatile boolean running = true;
    private volatile boolean resetting;
    private DeviceHealth last;
    private int lostStreak;
    private Instant graceUntil;
    private String needsPerson;
    private RecoveryLadder.Step workedLast;
    private Instant workedAt;
    private List<String> lastWarnings = List.of();

    CardWatch(MonitorConfig config, CardRef ref, DeviceProbe probe, MonitorBus bus, CardUsers users, Clock clock) {
        this.config = config;
        this.ref = ref;
        this.probe = probe;
        this.bus = bus;
        this.clock = clock;
        this.thermal = new ThermalGuard(config.hotC(), config.resumeC());
        this.ladder = new RecoveryLadder(config, ref, bus, users, probe.holdsCard(), this);
        this.graceUntil = clock.instant().plus(config.bootGrace());
    }

    /** A control request for this card (from MQTT or the admin endpoint). */
    void request(Command c) {
        if (Command.RESET.equals(c.action())) {
            bus.event(ref, "reset-requested", "started", "by " + c.by() + (c.reason() == null ? "" : ": " + c.reason()));
            requests.add(c);
        } else {
            bus.event(ref, "reset-requested", "skipped", "unknown action " + c.action() + " by " + c.by());
        }
    }

    void stop() {
        running = false;
    }

    @Override
    public void run() {
        Command request = null;
        while (running) {
            probeOnce();
            String cause = cause();
            if (request != null) {
                climb(RecoveryLadder.Step.CARD_REBOOT, "reset requested by " + request.by()
                        + (request.reason() == null ? "" : ": " + request.reason()), true);
            } else if (cause != null) {
                climb(startStep(), cause, false);
            }
            try {
                // The pause between probes, cut short by a reset request.
                request = requests.poll(config.interval().toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** Probes once and publishes what it found. */
    private synchronized DeviceHealth probeOnce() {
        DeviceHealth d = probe.probe(ref.index());
        last = d;
        if (!d.warnings().equals(lastWarnings)) {
            d.warnings().forEach(w -> log.warn("card {}: {}", ref, w));
            lastWarnings = d.warnings();
        }
        if (d.status() == DeviceHealth.Status.ANSWERING) {
            lostStreak = 0;
            if (needsPerson != null && !resetting) {
                bus.event(ref, "needs-person", "ok", "the card answers again");
                needsPerson = null;
            }
        } else if (d.status() != DeviceHealth.Status.UNREADABLE) {
            lostStreak++;
        }
        bus.health(health(d));
        return d;
    }

    private CardHealth health(DeviceHealth d) {
        CardState state = switch (d.status()) {
            case ANSWERING -> thermal.assess(d.readings().temperatureC());
            case NOT_FOUND, HUNG -> CardState.LOST;
            case UNREADABLE -> CardState.UNKNOWN;
        };
        if (resetting) {
            state = CardState.RESETTING;
        }
        return new CardHealth(ref, state, d.readings(), probe.name(), config.emulated(),
                d.detail() != null ? d.detail() : d.warnings().isEmpty() ? null : String.join("; ", d.warnings()), needsPerson,
                clock.instant());
    }

    /** Why the ladder should be climbed now, or null. */
    private String cause() {
        Instant now = clock.instant();
        if (needsPerson != null || now.isBefore(graceUntil)) {
            return null;
        }
        if (lostStreak >= config.lostAfter()) {
            return "the card did not answer " + lostStreak + " probes in a row (" + last.detail() + ")";
        }
        for (WorkerState w : bus.workersOn(ref)) {
            long seen = strikesSeen.getOrDefault(w.worker(), w.strikes());
            for (long i = seen; i < w.strikes(); i++) {
                strikes.addLast(now);
            }
            strikesSeen.put(w.worker(), w.strikes());
        }
        while (!strikes.isEmpty() && strikes.peekFirst().isBefore(now.minus(config.strikeWindow()))) {
            strikes.removeFirst();
        }
        if (strikes.size() >= config.strikes()) {
            return strikes.size() + " jobs ran past their time limit within " + config.strikeWindow();
        }
        return null;
    }

    /** Where a climb starts: at the step that worked last time, when that was within the window; else at the bottom. */
    private RecoveryLadder.Step startStep() {
        if (workedLast != null && workedAt.isAfter(clock.instant().minus(config.recoveryWindow()))) {
            return workedLast;
        }
        return RecoveryLadder.Step.RESTART_RUNTIMES;
    }

    private void climb(RecoveryLadder.Step from, String cause, boolean requested) {
        Instant now = clock.instant();
        while (!recoveries.isEmpty() && recoveries.peekFirst().isBefore(now.minus(config.recoveryWindow()))) {
            recoveries.removeFirst();
        }
        if (!requested && recoveries.size() >= config.maxRecoveries()) {
            giveUp("recovery ran " + recoveries.size() + " times within " + config.recoveryWindow() + " and the card keeps failing ("
                    + cause + ")");
            return;
        }
        recoveries.addLast(now);
        needsPerson = null;
        log.warn("card {}: recovering from {}: {}", ref, from.wire, cause);
        RecoveryLadder.Outcome o = ladder.climb(from, cause);
        strikes.clear();
        lostStreak = 0;
        graceUntil = clock.instant().plus(config.bootGrace());
        if (o.recovered()) {
            workedLast = o.reached();
            workedAt = clock.instant();
        } else {
            giveUp("the card did not come back after " + (o.tried().isEmpty() ? "any step (every step was skipped)" : o.tried()));
        }
        probeOnce();
    }

    private void giveUp(String why) {
        needsPerson = why + ". A person should power-cycle the Pi (unplug it for 10 s) or reseat the card; axfleet resumes by "
                + "itself once axcl-smi lists the card";
        bus.event(ref, "needs-person", "failed", needsPerson);
        log.error("card {}: needs a person: {}", ref, needsPerson);
        bus.health(health(last));
    }

    // ---- RecoveryLadder.Card ----

    @Override
    public boolean awaitAnswering(Duration max) {
        long deadline = System.nanoTime() + max.toNanos();
        long step = Math.min(1000, Math.max(100, config.interval().toMillis()));
        while (true) {
            DeviceHealth d = probeOnce();
            if (d.status() == DeviceHealth.Status.ANSWERING) {
                return true;
            }
            long left = (deadline - System.nanoTime()) / 1_000_000;
            if (left <= 0 || !running) {
                return false;
            }
            try {
                Thread.sleep(Math.min(step, left));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
    }

    @Override
    public synchronized boolean answering() {
        return last != null && last.status() == DeviceHealth.Status.ANSWERING;
    }

    @Override
    public synchronized List<Long> listedUsers() {
        return last == null ? List.of() : last.readings().processes().stream().map(CardProcess::pid).toList();
    }

    @Override
    public void resetting(boolean on) {
        if (resetting != on) {
            resetting = on;
            if (last != null) {
                bus.health(health(last));
            }
        }
    }
}
