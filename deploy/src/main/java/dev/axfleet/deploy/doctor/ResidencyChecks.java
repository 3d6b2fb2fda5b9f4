package dev.axfleet.deploy.doctor;

import dev.axfleet.broker.CardHealth;
import dev.axfleet.broker.CardProcess;
import dev.axfleet.broker.CardRef;
import dev.axfleet.broker.CardState;
import dev.axfleet.broker.Task;
import dev.axfleet.broker.WorkerState;
import dev.axfleet.broker.chat.ChatMessage;
import dev.axfleet.broker.residency.KeepAlive;
import dev.axfleet.broker.residency.Residence;
import dev.axfleet.deploy.doctor.Check.Need;
import dev.axfleet.deploy.models.ModelCatalog;
import dev.axfleet.monitor.probe.DeviceHealth;
import dev.axfleet.worker.WorkerConfig;
import dev.axfleet.worker.residency.CardLock;
import dev.axfleet.worker.residency.CardMates;
import dev.axfleet.worker.residency.Room;
import dev.axfleet.worker.runtime.AxllmServeRuntime;
import dev.axfleet.worker.runtime.EngineException;
import dev.axfleet.worker.runtime.Generation;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Models that come and go on one card (docs/hardware.md U30, A19, A20, F42, F43): two chat models loaded one after the
 * other while axcl-smi's CMM is read over and over (the parts a load takes it in), both answering while both are loaded,
 * then the worker's own residency code making room for a third: {@link Room} with the host's {@link CardLock}, the two as
 * its {@link CardMates}, the card's readings from the monitor's probe, and an unload that stops a runtime politely as a
 * worker does. It must unload the least recently used idle model and no other, and see its memory free on the card.
 */
final class ResidencyChecks {
    /** The runtime's load lines, {@code init 3 axmodel ok,remain_cmm(4012 MB)} and the post model's (LLM.hpp@c26dcbb:182-213). */
    private static final Pattern REMAIN = Pattern.compile("remain_cmm\\((\\d+)\\s*MB\\)");

    private ResidencyChecks() {
    }

    static List<Check> all() {
        return List.of(Check.of("U30", "models that come and go on one card", Duration.ofMinutes(15), Set.of(Need.CARD_ALONE),
                List.of("A19", "A20", "F42", "F43"), ResidencyChecks::comeAndGo));
    }

    /** One CMM reading during a load, {@code ms} after the runtime was started. */
    record Sample(long ms, long usedMiB) {
    }

    /** A load watched: the runtime started while axcl-smi's CMM was read again and again. */
    record Load(String model, long ms, long beforeMiB, long afterMiB, List<Sample> samples, int remainLines) {
        long footprint() {
            return afterMiB - beforeMiB;
        }

        /** How often a reading was higher than the one before. */
        int rises() {
            int n = 0;
            long last = beforeMiB;
            for (Sample s : samples) {
                n += s.usedMiB() > last ? 1 : 0;
                last = s.usedMiB();
            }
            return n;
        }

        /** Enough readings during the load to see its parts (fewer: it was too quick for axcl-smi). */
        boolean watchable() {
            return samples.size() >= 8;
        }

        String describe() {
            return model + " took " + footprint() + " MiB of CMM in " + ms + " ms, " + (watchable() ? "rising " + rises() + " times in "
                    + samples.size() + " readings" : "too quick to watch (" + samples.size() + (samples.size() == 1 ? " reading)" : " readings)")) + "; " + remainLines
                    + (remainLines == 1 ? " remain_cmm line" : " remain_cmm lines") + " in its log";
        }
    }

    static Verdict comeAndGo(Lab lab) throws Exception {
        Target t = lab.target();
        lab.releaseAll();
        Long base = lab.cmmUsed();
        if (base == null) {
            return Verdict.differs("axcl-smi info --cmm gave no CMM Used line");
        }
        List<String> off = new ArrayList<>();
        List<String> seen = new ArrayList<>();

        // 1. Two loads, watched (A20, F42). The first model is the shared chat runtime: it stays for the checks after.
        Load first = watch(lab, t.chatModel(), base, () -> lab.chat(true));
        AxllmServeRuntime a = lab.chat(true);
        AxllmServeRuntime b = lab.second(false);
        Load second = watch(lab, t.secondModel(), first.afterMiB(), () -> {
            b.start(lab.loadTimeout());
            return b;
        });
        for (Load l : List.of(first, second)) {
            seen.add(l.describe());
            if (l.watchable() && l.rises() < 2) {
                off.add(l.model() + "'s CMM was taken at once (" + l.rises() + " rise in " + l.samples().size() + " readings over " + l.ms()
                        + " ms): a reading mid-load shows the whole model, not a part (F42; the emulator's 8 parts, A20)");
            }
            Optional<Integer> catalog = ModelCatalog.builtIn().find(l.model()).map(ModelCatalog.Entry::cmmMib);
            if (catalog.isPresent() && Math.abs(l.footprint() - catalog.get()) > Math.max(64, catalog.get() / 10)) {
                off.add(l.model() + " takes " + l.footprint() + " MiB, the catalog says " + catalog.get() + ": set its cmm_mib to the measured figure");
            }
        }
        Integer remainA = lastRemain(a.recentOutput());
        Integer remainB = lastRemain(b.recentOutput());
        lab.note("the runtimes' last remain_cmm: " + t.chatModel() + " " + remainA + " MB, " + t.secondModel() + " " + remainB + " MB");

        // 2. Both answer while both are loaded; the second is used first, so the first is the most recently used.
        String answerB = hi(b);
        Instant usedB = Instant.now();
        String answerA = hi(a);
        Instant usedA = Instant.now();
        seen.add("both answered while both were loaded (" + t.secondModel() + ": \"" + ToolChecks.oneLine(answerB, 40) + "\", " + t.chatModel()
                + ": \"" + ToolChecks.oneLine(answerA, 40) + "\")");
        if (answerA.isBlank() || answerB.isBlank()) {
            off.add("with both loaded, " + (answerA.isBlank() ? t.chatModel() : t.secondModel()) + " gave an empty answer");
        }

        // 3. The worker's residency code makes room for a third model that needs more than is free, less than the second frees.
        Long bothRead = lab.cmmUsed();
        if (bothRead == null) {
            return Verdict.differs("axcl-smi info --cmm gave no CMM Used line with both models loaded; " + String.join("; ", seen));
        }
        long both = bothRead;
        WorkerConfig planned = WorkerConfig.from(t.chatWorker(Host.freePort(), false).with(Map.of(
                "worker.model", "doctor-room",
                "worker.id", "doctor-room",
                "worker.state_dir", t.stateDir().resolve("worker-doctor-room").toString(),
                "models.max_loaded_models", "0",
                "worker.card_lock", lab.settings().string("worker.card_lock",
                        t.stateDir().toAbsolutePath().getParent().resolve("card-" + lab.settings().integer("card.index", 0) + ".lock").toString()))));
        CardRef card = planned.card();
        long margin = planned.residency().marginMiB();
        long freeMiB = Room.CARD_CMM_MIB - both;
        Long total = totalMiB(lab);
        if (total != null) {
            freeMiB = total - both;
        }
        long need = Math.max(1, freeMiB - margin + Math.max(1, second.footprint() / 2));
        WorkerState stateA = state(a, t.chatModel(), card, first.footprint(), usedA);
        WorkerState stateB = state(b, t.secondModel(), card, second.footprint(), usedB);
        CardMates mates = new CardMates(card, planned.workerId());
        mates.update(stateA);
        mates.update(stateB);
        List<String> asked = new CopyOnWriteArrayList<>();
        Map<String, Instant> exited = new ConcurrentHashMap<>();
        Map<String, Long> stopMs = new ConcurrentHashMap<>();
        Readings readings = new Readings(lab, card);
        Room.Unloader unloader = (victim, reason) -> {
            asked.add(victim.model());
            Thread stop = new Thread(() -> {
                long t0 = System.nanoTime();
                if (victim.worker().equals(stateB.worker())) {
                    b.close();
                } else {
                    lab.releaseChat();
                }
                stopMs.put(victim.model(), (System.nanoTime() - t0) / 1_000_000);
                Instant now = Instant.now();
                exited.put(victim.model(), now);
                mates.update(victim.withPhase(WorkerState.Phase.UNLOADED, null, now));
            }, "doctor-unload-" + victim.model());
            stop.setDaemon(true);
            stop.start();
        };
        Room room = new Room(planned.model(), planned.workerId(), planned.residency(), need, new CardLock(planned.residency().cardLock()), mates,
                readings, unloader, Clock.systemUTC(), planned.cardStale());
        Room.Result result = room.make(List.of(), () -> false, true, held -> {
            if (held != null) {
                lab.note("the plan: " + held);
            }
        });
        String plan = "a model needing " + need + " MiB (" + freeMiB + " MiB free, margin " + margin + ") beside them: Room asked to unload "
                + (asked.isEmpty() ? "nothing" : String.join(", ", asked)) + ", and " + describe(result);
        if (result instanceof Room.Granted g) {
            g.lock().close();
        }
        seen.add(plan);
        if (!(result instanceof Room.Granted)) {
            off.add("the room was not made: " + describe(result));
        }
        if (!asked.equals(List.of(t.secondModel()))) {
            off.add("Room should have unloaded " + t.secondModel() + " alone (idle, least recently used, and enough): it asked for "
                    + (asked.isEmpty() ? "none" : String.join(", ", asked)));
        }

        // 4. How soon the card showed the second model's memory free after its process ended (A19).
        Instant gone = exited.get(t.secondModel());
        if (gone != null) {
            long expected = both - second.footprint() + Math.max(32, second.footprint() / 10);
            Instant deadline = gone.plus(planned.residency().evictWait());
            Readings.Reading free = readings.firstAfter(gone, stateB.runtimePids(), expected);
            while (free == null && Instant.now().isBefore(deadline)) {
                readings.fresh();
                free = readings.firstAfter(gone, stateB.runtimePids(), expected);
                if (free == null) {
                    Thread.sleep(lab.emulated() ? 100 : 250);
                }
            }
            String stop = t.secondModel() + " stopped politely (SIGINT) in " + stopMs.get(t.secondModel()) + " ms";
            // Room trusts the first reading that no longer lists the process: its memory must show free in that one already.
            Readings.Reading unlisted = readings.firstAfter(gone, stateB.runtimePids(), Long.MAX_VALUE);
            if (unlisted != null && (free == null || free.at().isAfter(unlisted.at()))) {
                off.add("the card stopped listing " + t.secondModel() + "'s process while its memory still showed taken (" + unlisted.usedMiB()
                        + " MiB used " + Duration.between(gone, unlisted.at()).toMillis() + " ms after the exit): Room plans from such a reading "
                        + "(A19 assumes the memory is free the moment the process is gone)");
            }
            if (free == null) {
                off.add(stop + ", and its " + second.footprint() + " MiB did not show free within models.evict_wait "
                        + planned.residency().evictWait().toSeconds() + " s of its exit (A19 assumes at once): raise models.evict_wait");
            } else {
                long ms = Duration.between(gone, free.at()).toMillis();
                seen.add(stop + "; the card showed its memory free " + ms + " ms after the exit (" + free.usedMiB() + " MiB used; monitor.interval "
                        + lab.monitor().interval().toSeconds() + " s)");
            }
        }
        readings.evidence().forEach(lab::note);

        // 5. The model kept still answers.
        if (!asked.contains(t.chatModel())) {
            String again = hi(lab.chat(true));
            if (again.isBlank()) {
                off.add(t.chatModel() + " gave an empty answer after " + t.secondModel() + " was unloaded beside it");
            }
        }
        String all = String.join("; ", seen);
        return off.isEmpty() ? Verdict.verified(all) : Verdict.differs(String.join("; ", off) + "; " + all);
    }

    /** Starts a runtime on another thread and reads axcl-smi's CMM until it is ready. */
    private static Load watch(Lab lab, String model, long before, java.util.concurrent.Callable<AxllmServeRuntime> start) throws Exception {
        long pause = lab.emulated() ? 0 : 500;
        List<Sample> samples = new ArrayList<>();
        java.util.concurrent.CompletableFuture<AxllmServeRuntime> started = new java.util.concurrent.CompletableFuture<>();
        Thread loader = new Thread(() -> {
            try {
                started.complete(start.call());
            } catch (Throwable e) {
                started.completeExceptionally(e);
            }
        }, "doctor-load-" + model);
        loader.setDaemon(true);
        long t0 = System.nanoTime();
        loader.start();
        while (!started.isDone()) {
            long s = System.nanoTime();
            Long used = lab.cmmUsed();
            if (used != null && !started.isDone()) {
                samples.add(new Sample((System.nanoTime() - t0) / 1_000_000, used));
            }
            long left = pause - (System.nanoTime() - s) / 1_000_000;
            if (left > 0) {
                Thread.sleep(left);
            }
        }
        AxllmServeRuntime r;
        try {
            r = started.get();
        } catch (java.util.concurrent.ExecutionException e) {
            throw e.getCause() instanceof Exception x ? x : e;
        }
        long ms = (System.nanoTime() - t0) / 1_000_000;
        Long after = lab.cmmUsed();
        StringBuilder line = new StringBuilder(model + "'s load, CMM used (MiB) at ms after start:");
        long last = -1;
        for (Sample s : samples) {
            if (s.usedMiB() != last) {
                line.append(' ').append(s.ms()).append(':').append(s.usedMiB());
                last = s.usedMiB();
            }
        }
        lab.note(line + " (ready at " + ms + " ms: " + after + ")");
        return new Load(model, ms, before, after == null ? before : after, samples, countRemain(r.recentOutput()));
    }

    private static int countRemain(String log) {
        Matcher m = REMAIN.matcher(log);
        int n = 0;
        while (m.find()) {
            n++;
        }
        return n;
    }

    private static Integer lastRemain(String log) {
        Matcher m = REMAIN.matcher(log);
        Integer last = null;
        while (m.find()) {
            last = Integer.valueOf(m.group(1));
        }
        return last;
    }

    private static Long totalMiB(Lab lab) {
        DeviceHealth h = lab.smiProbe().probe(0);
        return h.readings().cmmTotalMiB();
    }

    /** What a worker of {@code r}'s model says in its retained state: ready, idle, its footprint and last use. */
    private static WorkerState state(AxllmServeRuntime r, String model, CardRef card, long footprint, Instant lastUsed) {
        return new WorkerState("doctor-" + model, model, WorkerState.Phase.READY, r.kind(), r.emulated(), r.contextTokens(), 1, 0, 0, null, lastUsed,
                card, null, r.pids(), 0, Set.of(Task.CHAT), Set.of(), List.of(), new Residence(footprint, false, KeepAlive.FOREVER, lastUsed, null));
    }

    private static String hi(AxllmServeRuntime r) throws EngineException {
        return r.chat(AxllmChecks.ask(List.of(ChatMessage.user("hi")), 8, false), new Generation(List.of(), 8, x -> { }, () -> false)).text();
    }

    private static String describe(Room.Result r) {
        if (r instanceof Room.Granted) {
            return "granted the load";
        }
        return r instanceof Room.Refused f ? "refused: " + f.why() : "gave up waiting";
    }

    /** The card as a worker's Room reads it (the monitor's retained health), here from the monitor's probe itself; each reading kept. */
    static final class Readings implements Room.Card {
        record Reading(Instant at, Long usedMiB, List<Long> pids) {
        }

        private final Lab lab;
        private final CardRef card;
        private final List<Reading> all = new CopyOnWriteArrayList<>();

        Readings(Lab lab, CardRef card) {
            this.lab = lab;
            this.card = card;
        }

        @Override
        public Optional<CardHealth> fresh() {
            DeviceHealth h = lab.smiProbe().probe(0);
            Instant at = Instant.now();
            all.add(new Reading(at, h.readings().cmmUsedMiB(), h.readings().processes().stream().map(CardProcess::pid).toList()));
            if (h.status() != DeviceHealth.Status.ANSWERING) {
                return Optional.empty();
            }
            return Optional.of(new CardHealth(card, CardState.OK, h.readings(), "axcl-smi", lab.emulated(), null, null, at));
        }

        @Override
        public void await(long millis) throws InterruptedException {
            Thread.sleep(millis);
        }

        /** The first reading at or after {@code at} that lists none of {@code pids} and shows at most {@code usedMiB} used. */
        Reading firstAfter(Instant at, List<Long> pids, long usedMiB) {
            return all.stream().filter(r -> !r.at().isBefore(at) && r.usedMiB() != null && r.usedMiB() <= usedMiB
                    && r.pids().stream().noneMatch(pids::contains)).findFirst().orElse(null);
        }

        /** The readings, one line each time what they say changed. */
        List<String> evidence() {
            List<String> out = new ArrayList<>();
            Instant first = all.isEmpty() ? Instant.now() : all.get(0).at();
            String last = null;
            int times = 0;
            for (Reading r : all) {
                String said = r.usedMiB() + " MiB used, processes " + r.pids();
                if (said.equals(last)) {
                    times++;
                    out.set(out.size() - 1, out.get(out.size() - 1).replaceFirst(" \\(read \\d+ times\\)$", "") + " (read " + times + " times)");
                    continue;
                }
                out.add("the card as Room read it, +" + Duration.between(first, r.at()).toMillis() + " ms: " + said);
                last = said;
                times = 1;
            }
            return out;
        }
    }
}
