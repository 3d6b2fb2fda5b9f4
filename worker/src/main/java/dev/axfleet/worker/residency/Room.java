package dev.axfleet.worker.residency;

import dev.axfleet.broker.CardHealth;
import dev.axfleet.broker.CardProcess;
import dev.axfleet.broker.WorkerState;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes room on the card for this worker's model before it loads: takes the card's load lock, works out what fits
 * ({@link RoomPlan}), asks the least recently used idle models to unload, waits until their workers say so and the card's
 * own reading shows their memory free, and only then lets the load go ahead, still holding the lock. An orderly swap:
 * the models unloaded stop politely between jobs (their runtime's SIGINT, never SIGKILL while loading), and nothing loads
 * onto memory that has not been seen free.
 */
public final class Room {
    private static final Logger log = LoggerFactory.getLogger("residency");
    /** The card's memory for models: 7040 MiB of CMM (axcl-smi on the 8 GB card; ../shared/axera.md §3). */
    public static final long CARD_CMM_MIB = 7040;

    /** The card as the monitor last described it (its retained health). */
    public interface Card {
        /** The last health recent enough to trust, or empty (no monitor). */
        Optional<CardHealth> fresh();

        /** Waits up to {@code millis} for the next health. */
        void await(long millis) throws InterruptedException;
    }

    /** Asks another worker to unload its model. */
    public interface Unloader {
        void ask(WorkerState victim, String reason);
    }

    /** What came of it. */
    public sealed interface Result permits Granted, Refused, Gone {
    }

    /** There is room; the load lock is held until {@code lock} is closed (after the load). */
    public record Granted(CardLock.Held lock) implements Result {
    }

    public record Refused(String why) implements Result {
    }

    /** The wait was no longer wanted (the job expired or was cancelled, the worker stops). */
    public record Gone() implements Result {
    }

    private final String model;
    private final String workerId;
    private final ResidencyConfig config;
    private final long needMiB;
    private final CardLock lock;
    private final CardMates mates;
    private final Card card;
    private final Unloader unloader;
    private final Clock clock;
    private final Duration readingWait;

    /**
     * @param readingWait how long to wait for a card reading newer than the last change on the card (the monitor reads
     *                    every monitor.interval); past it, the footprints are counted instead
     */
    public Room(String model, String workerId, ResidencyConfig config, long needMiB, CardLock lock, CardMates mates, Card card,
                Unloader unloader, Clock clock, Duration readingWait) {
        this.model = model;
        this.workerId = workerId;
        this.config = config;
        this.needMiB = needMiB;
        this.lock = lock;
        this.mates = mates;
        this.card = card;
        this.unloader = unloader;
        this.clock = clock;
        this.readingWait = readingWait;
    }

    /**
     * Waits until the model may load, making room as needed.
     *
     * @param ownPids  this worker's runtime processes still on the card (their memory counts as free)
     * @param mayEvict false at start (preloading unloads nobody): a model that does not fit is refused instead
     * @param held     told why the load waits (null once it no longer does), for the worker's state
     */
    public Result make(List<Long> ownPids, BooleanSupplier gone, boolean mayEvict, Consumer<String> held) {
        CardLock.Held h = lock.acquire(gone);
        if (h == null) {
            return new Gone();
        }
        try {
            while (true) {
                if (gone.getAsBoolean()) {
                    h.close();
                    return new Gone();
                }
                RoomPlan.Free free = free(ownPids, gone);
                RoomPlan.Decision d = RoomPlan.decide(model, needMiB, config.marginMiB(), config.maxLoaded(), free, mates.snapshot());
                if (d instanceof RoomPlan.Fits) {
                    held.accept(null);
                    CardLock.Held granted = h;
                    h = null;
                    return new Granted(granted);
                }
                if (d instanceof RoomPlan.Refuse r) {
                    held.accept(null);
                    return new Refused(r.why());
                }
                if (!mayEvict) {
                    held.accept(null);
                    String why = d instanceof RoomPlan.Evict e ? e.why() + "; it would take unloading "
                            + String.join(", ", e.victims().stream().map(WorkerState::model).toList()) : ((RoomPlan.Wait) d).why();
                    return new Refused(why);
                }
                if (d instanceof RoomPlan.Evict e) {
                    held.accept("making room on the card: unloading " + String.join(", ", e.victims().stream().map(WorkerState::model).toList()));
                    evict(e.victims(), gone);
                    continue;
                }
                // Only busy models could make room: let others load meanwhile, look again when something changes.
                held.accept(((RoomPlan.Wait) d).why());
                h.close();
                h = null;
                mates.await(1000);
                h = lock.acquire(gone);
                if (h == null) {
                    return new Gone();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Gone();
        } finally {
            if (h != null) {
                h.close();
            }
        }
    }

    /** Asks each victim to unload, then waits (bounded) for their workers to say so and for the card to show it. */
    private void evict(List<WorkerState> victims, BooleanSupplier gone) throws InterruptedException {
        for (WorkerState v : victims) {
            log.info("unloading {} ({} MiB, last used {}) to make room for {}", v.model(), RoomPlan.footprint(v),
                    v.residence() == null || v.residence().lastUsed() == null ? "never" : v.residence().lastUsed(), model);
            unloader.ask(v, "making room on the card for " + model + " (" + workerId + ")");
        }
        Instant deadline = clock.instant().plus(config.evictWait());
        while (!gone.getAsBoolean() && clock.instant().isBefore(deadline)) {
            boolean all = victims.stream().allMatch(v -> {
                WorkerState now = mates.get(v.worker());
                return now == null || !now.holdsCard();
            });
            if (all) {
                break;
            }
            mates.await(100);
        }
        Instant unloaded = victims.stream().map(v -> mates.get(v.worker())).filter(Objects::nonNull).map(WorkerState::since)
                .filter(Objects::nonNull).max(Instant::compareTo).orElse(clock.instant());
        List<Long> pids = victims.stream().flatMap(v -> v.runtimePids().stream()).toList();
        // The card's own word that the memory is free: a reading after the unloads that lists none of their processes.
        while (!gone.getAsBoolean() && clock.instant().isBefore(deadline)) {
            Optional<CardHealth> h = card.fresh();
            if (h.isEmpty()) {
                return; // no monitor: the footprints are counted instead
            }
            if (!h.get().at().isBefore(unloaded) && h.get().readings().processes().stream().map(CardProcess::pid).noneMatch(pids::contains)) {
                log.info("the card shows {} MiB of CMM free after the unloads", h.get().readings().cmmFreeMiB());
                return;
            }
            card.await(100);
        }
    }

    /** The card's free CMM: its reading when one is newer than the last change on the card, else the footprints counted. */
    private RoomPlan.Free free(List<Long> ownPids, BooleanSupplier gone) throws InterruptedException {
        List<WorkerState> all = mates.snapshot();
        Instant lastChange = all.stream().map(WorkerState::since).filter(Objects::nonNull).max(Instant::compareTo).orElse(Instant.EPOCH);
        Instant deadline = clock.instant().plus(readingWait);
        Optional<CardHealth> reading = reading();
        while (reading.isPresent() && reading.get().at().isBefore(lastChange) && clock.instant().isBefore(deadline) && !gone.getAsBoolean()) {
            card.await(100);
            reading = reading();
        }
        long total = reading.map(r -> r.readings().cmmTotalMiB()).orElse(CARD_CMM_MIB);
        if (reading.isPresent() && !reading.get().at().isBefore(lastChange)) {
            long own = reading.get().readings().processes().stream().filter(p -> ownPids.contains(p.pid()))
                    .mapToLong(CardProcess::npuMemoryKiB).sum() / 1024;
            return new RoomPlan.Free(reading.get().readings().cmmFreeMiB() + own, total, true, reading.get().readings().processes());
        }
        long held = all.stream().filter(WorkerState::holdsCard).mapToLong(RoomPlan::footprint).sum();
        return new RoomPlan.Free(total - held, total, false, reading.map(r -> r.readings().processes()).orElse(List.of()));
    }

    private Optional<CardHealth> reading() {
        return card.fresh().filter(h -> h.readings().cmmFreeMiB() != null && h.at() != null);
    }
}
