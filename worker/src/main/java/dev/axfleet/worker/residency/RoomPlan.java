package dev.axfleet.worker.residency;

import dev.axfleet.broker.CardProcess;
import dev.axfleet.broker.WorkerState;
import dev.axfleet.broker.residency.Residence;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * What a model about to be loaded needs from the others on its card, decided from what is known now (no side
 * effects; {@link Room} acts on it). The manufacturer's own OpenAI plugin does this with its models: it compares the
 * card's remaining CMM with the model's {@code memory_required}, unloads the least recently used resident models until
 * the rest would fit, and answers 503 "Insufficient Memory Resource" when even that would not be enough
 * (m5stack/ModuleLLM-OpenAI-Plugin api_server.py@a8f54b0, {@code ModelDispatcher._ensure_memory_available}). Here a model
 * is only unloaded when it is idle and not pinned; one that is running a job is waited for.
 */
public final class RoomPlan {
    private RoomPlan() {
    }

    /**
     * The card's free CMM as far as it is known.
     *
     * @param readBack from the card's own reading (the monitor's {@code axcl-smi}); false: counted from the footprints the
     *                 workers announce, because no recent reading is there
     */
    public record Free(long freeMiB, long totalMiB, boolean readBack, List<CardProcess> processes) {
        public Free {
            processes = processes == null ? List.of() : List.copyOf(processes);
        }

        String source() {
            return readBack ? "read back from the card" : "counted from the models' footprints: no recent card reading";
        }
    }

    /** What to do. */
    public sealed interface Decision permits Fits, Evict, Wait, Refuse {
    }

    /** There is room: load. */
    public record Fits() implements Decision {
    }

    /** Unload these idle models first (least recently used first), then look again. */
    public record Evict(List<WorkerState> victims, String why) implements Decision {
    }

    /** Only models busy with a job could make room: wait for them to finish, then look again. */
    public record Wait(String why) implements Decision {
    }

    /** It cannot fit even with every idle and busy unpinned model unloaded; {@code why} names what holds the card. */
    public record Refuse(String why) implements Decision {
    }

    /**
     * @param model     the model to load
     * @param needMiB   its footprint (0: unknown, then only {@code maxLoaded} limits it)
     * @param marginMiB kept free beyond the footprints
     * @param maxLoaded at most this many loaded on the card at once (0: no limit)
     * @param mates     the other workers on the card
     */
    public static Decision decide(String model, long needMiB, long marginMiB, int maxLoaded, Free free, List<WorkerState> mates) {
        List<WorkerState> holders = mates.stream().filter(WorkerState::holdsCard).toList();
        long shortMiB = needMiB <= 0 ? 0 : needMiB + marginMiB - free.freeMiB();
        int excess = maxLoaded > 0 ? holders.size() + 1 - maxLoaded : 0;
        if (shortMiB <= 0 && excess <= 0) {
            return new Fits();
        }
        String need = needMiB <= 0 ? "" : "not enough free CMM on the card: " + model + " needs " + needMiB + " MiB of card memory (and " + marginMiB + " MiB kept free); "
                + free.freeMiB() + " MiB of " + free.totalMiB() + " MiB is free (" + free.source() + ")";
        String limit = excess > 0 ? (need.isEmpty() ? "no room on the card: " : "") + holders.size() + " model(s) are loaded on the card and models.max_loaded_models is " + maxLoaded : "";
        String what = String.join("; ", List.of(need, limit).stream().filter(s -> !s.isEmpty()).toList());
        if (needMiB + marginMiB > free.totalMiB() && needMiB > 0) {
            return new Refuse(what + "; the card has less memory than the model needs");
        }
        // Unpinned models may make room: now if idle, after their job or their load (one loading or restarting) if not.
        List<WorkerState> evictable = holders.stream().filter(m -> !pinned(m))
                .sorted(Comparator.comparing(RoomPlan::lastUsed).thenComparing(WorkerState::worker)).toList();
        List<WorkerState> victims = cover(evictable.stream().filter(RoomPlan::idle).toList(), shortMiB, excess);
        if (victims != null) {
            return new Evict(victims, what);
        }
        List<WorkerState> withBusy = cover(evictable, shortMiB, excess);
        if (withBusy != null) {
            List<String> busy = withBusy.stream().filter(m -> !idle(m))
                    .map(m -> m.model() + (m.phase() == WorkerState.Phase.READY ? " to finish its job" : " to finish loading")).toList();
            return new Wait(what + "; waiting for " + String.join(", ", busy));
        }
        return new Refuse(what + "; held by " + holdersText(holders, free));
    }

    /** The least recently used of {@code candidates} that together free {@code shortMiB} and {@code excess} places, or null. */
    private static List<WorkerState> cover(List<WorkerState> candidates, long shortMiB, int excess) {
        List<WorkerState> out = new ArrayList<>();
        long freed = 0;
        for (WorkerState m : candidates) {
            if (freed >= shortMiB && out.size() >= excess) {
                break;
            }
            out.add(m);
            freed += footprint(m);
        }
        return freed >= shortMiB && out.size() >= excess ? out : null;
    }

    /** What holds the card, said for a person: every loaded model and why it stays, and the card's other users. */
    static String holdersText(List<WorkerState> holders, Free free) {
        List<String> parts = new ArrayList<>();
        Set<Long> known = new TreeSet<>();
        for (WorkerState m : holders.stream().sorted(Comparator.comparing(WorkerState::model)).toList()) {
            known.addAll(m.runtimePids());
            String why = pinned(m) ? "pinned" : m.phase() != WorkerState.Phase.READY ? m.phase().wire() : idle(m) ? "idle" : "busy";
            parts.add(m.model() + " " + footprint(m) + " MiB (" + why + ")");
        }
        for (CardProcess p : free.processes()) {
            if (!known.contains(p.pid())) {
                parts.add("pid " + p.pid() + " " + p.name() + " " + p.npuMemoryKiB() / 1024 + " MiB (not an axfleet worker's)");
            }
        }
        return parts.isEmpty() ? "nothing axfleet knows of (the card's memory is used outside axfleet)" : String.join(", ", parts);
    }

    static boolean pinned(WorkerState m) {
        return m.residence() != null && m.residence().pinned();
    }

    /** Loaded and not running a job, nor about to: nothing handed to it unanswered. */
    static boolean idle(WorkerState m) {
        return m.phase() == WorkerState.Phase.READY && m.queued() == 0;
    }

    static long footprint(WorkerState m) {
        Residence r = m.residence();
        return r == null ? 0 : r.cmmMiB();
    }

    private static Instant lastUsed(WorkerState m) {
        Instant t = m.residence() == null ? null : m.residence().lastUsed();
        return t != null ? t : m.since() != null ? m.since() : Instant.EPOCH;
    }
}
