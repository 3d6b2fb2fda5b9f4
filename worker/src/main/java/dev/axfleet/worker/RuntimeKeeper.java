package dev.axfleet.worker;

import dev.axfleet.worker.residency.CardLock;
import dev.axfleet.worker.residency.Room;
import dev.axfleet.worker.runtime.ModelRuntime;
import dev.axfleet.worker.runtime.RuntimeStartException;
import java.time.Duration;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the worker's runtime running while its model is wanted on the card: loads it once {@link Room} has made room
 * (the card's load lock held through the load), retries a failed start with growing pauses, restarts it after a failure,
 * unloads it on purpose (a request, its keep-alive, another model's need), and stops it while its card is lost or being
 * reset. Only the job loop's thread calls it.
 */
final class RuntimeKeeper {
    private static final Logger log = LoggerFactory.getLogger("jobs");
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(60);

    /** How an {@link #ensure} ended. */
    enum Start {
        /** The runtime runs. */
        READY,
        /** Whoever waited for it no longer does (the job ended, the worker stops). */
        GONE,
        /** The model does not fit on the card: {@link #refusal()} says what holds it. */
        REFUSED
    }

    private final WorkerConfig config;
    private final ModelRuntime runtime;
    private final WorkerStatus status;
    private final CardGate card;
    private final BooleanSupplier stopping;
    private final Room room;
    private final CardLock lock;
    private boolean ready;
    private int startFailures;
    private String refusal;
    private long lastLoadMs;

    RuntimeKeeper(WorkerConfig config, ModelRuntime runtime, WorkerStatus status, CardGate card, BooleanSupplier stopping, Room room) {
        this.config = config;
        this.runtime = runtime;
        this.status = status;
        this.card = card;
        this.stopping = stopping;
        this.room = room;
        this.lock = new CardLock(config.residency().cardLock());
    }

    boolean ready() {
        return ready;
    }

    /** Why the last {@link #ensure} was refused. */
    String refusal() {
        return refusal;
    }

    /** How long the last load took, from the room being there to the runtime answering. */
    long lastLoadMs() {
        return lastLoadMs;
    }

    /**
     * Starts the runtime when it is not running, once its model fits on the card, retrying a failed start with growing
     * pauses; until {@code gone} says the wait is no longer wanted, or the worker stops.
     *
     * @param mayEvict whether other models may be unloaded to make room (not when preloading)
     */
    Start ensure(BooleanSupplier gone, boolean mayEvict) {
        BooleanSupplier over = () -> stopping.getAsBoolean() || gone.getAsBoolean();
        while (!ready) {
            if (over.getAsBoolean()) {
                return Start.GONE;
            }
            if (card.cardDown()) {
                release(cardDownReason());
                if (!awaitCardNews()) {
                    return Start.GONE;
                }
                continue;
            }
            try {
                java.util.Optional<String> missing = config.notInstalled();
                if (missing.isPresent()) {
                    throw new RuntimeStartException(missing.get());
                }
                Room.Result r = room.make(runtime.pids(), over, mayEvict, status::held);
                if (r instanceof Room.Gone) {
                    return Start.GONE;
                }
                if (r instanceof Room.Refused refused) {
                    refusal = refused.why();
                    log.warn("{} not loaded: {}", config.model(), refusal);
                    return Start.REFUSED;
                }
                try (CardLock.Held held = ((Room.Granted) r).lock()) {
                    status.loading();
                    long t0 = System.nanoTime();
                    runtime.start(config.loadTimeout());
                    lastLoadMs = (System.nanoTime() - t0) / 1_000_000;
                    ready = true;
                    startFailures = 0;
                    status.ready(runtime);
                    log.info("{} loaded in {} ms", config.model(), lastLoadMs);
                }
            } catch (RuntimeStartException e) {
                startFailures++;
                Duration pause = Duration.ofSeconds(1L << Math.min(6, startFailures - 1));
                pause = pause.compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : pause;
                log.error("runtime did not start (attempt {}), next try in {}: {}", startFailures, pause, e.getMessage());
                status.restarting(e.getMessage());
                runtime.close();
                long until = System.nanoTime() + pause.toNanos();
                while (System.nanoTime() < until && !over.getAsBoolean()) {
                    sleep(100);
                }
            }
        }
        return Start.READY;
    }

    /** Stops and starts the runtime (after a failure, or on request), holding the card's load lock; a card that is down stops it instead. */
    void restart(String why) {
        ready = false;
        if (card.cardDown()) {
            release(why + "; " + cardDownReason());
            return;
        }
        status.restarting(why);
        try (CardLock.Held held = lock.acquire(stopping)) {
            if (held == null) {
                return;
            }
            runtime.restart(why, config.loadTimeout());
            ready = true;
            startFailures = 0;
            status.ready(runtime);
        } catch (RuntimeStartException e) {
            log.error("runtime restart failed: {}", e.getMessage());
            status.restarting(e.getMessage());
            runtime.close();
        }
    }

    /**
     * Unloads the model on purpose: its runtime stopped politely (RuntimeProcess: SIGINT, and SIGKILL never while it still
     * loads; an in-process engine unloads its models), the card's memory given back. Its jobs will load it again.
     */
    void unload(String why) {
        if (ready || !runtime.pids().isEmpty()) {
            log.info("unloading {}: {}", config.model(), why);
            runtime.close();
            ready = false;
        }
        status.unloaded(why);
    }

    /** An idle check: a runtime that fails its probe is stopped, to be started again by {@link #ensure}. */
    void probe() {
        if (ready && !runtime.healthy()) {
            log.warn("the runtime failed its health probe while idle; restarting it");
            ready = false;
            status.restarting("runtime failed its health probe");
            runtime.close();
        }
    }

    /** Stops the runtime because its card is lost or being reset; it starts again when the card is back. */
    void release(String why) {
        if (ready || !runtime.pids().isEmpty()) {
            log.warn("stopping the runtime: {}", why);
            runtime.close();
            ready = false;
        }
        status.paused(why);
    }

    String cardDownReason() {
        return card.holdReason().orElse("the card is down");
    }

    /** Waits a moment for news about the card; false when the thread was interrupted. */
    boolean awaitCardNews() {
        try {
            card.await(250);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
