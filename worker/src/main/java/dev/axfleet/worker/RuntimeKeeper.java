package dev.axfleet.worker;

import dev.axfleet.worker.runtime.ModelRuntime;
import dev.axfleet.worker.runtime.RuntimeStartException;
import java.time.Duration;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the worker's runtime running: starts it (not while the card lacks the model's CMM), retries a failed start
 * with growing pauses, restarts it after a failure, and stops it while its card is lost or being reset. Only the
 * job loop's thread calls it.
 */
final class RuntimeKeeper {
    private static final Logger log = LoggerFactory.getLogger("jobs");
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(60);

    private final WorkerConfig config;
    private final ModelRuntime runtime;
    private final WorkerStatus status;
    private final CardGate card;
    private final BooleanSupplier stopping;
    private boolean ready;
    private int startFailures;

    RuntimeKeeper(WorkerConfig config, ModelRuntime runtime, WorkerStatus status, CardGate card, BooleanSupplier stopping) {
        this.config = config;
        this.runtime = runtime;
        this.status = status;
        this.card = card;
        this.stopping = stopping;
    }

    boolean ready() {
        return ready;
    }

    /**
     * Starts the runtime when it is not running, retrying with growing pauses. Returns false instead when
     * {@code gone} says the job waiting for it ended meanwhile, or the worker stops.
     */
    boolean ensure(BooleanSupplier gone) {
        while (!ready && !stopping.getAsBoolean()) {
            if (gone.getAsBoolean()) {
                return false;
            }
            if (card.cardDown()) {
                release(cardDownReason());
                if (!awaitCardNews()) {
                    return false;
                }
                continue;
            }
            Optional<String> shortfall = config.notInstalled().or(() -> card.cmmShortfall(config.cmmMiB(), runtime.pids()));
            status.loading();
            try {
                if (shortfall.isPresent()) {
                    throw new RuntimeStartException(shortfall.get());
                }
                runtime.start(config.loadTimeout());
                ready = true;
                startFailures = 0;
                status.ready(runtime);
            } catch (RuntimeStartException e) {
                startFailures++;
                Duration pause = Duration.ofSeconds(1L << Math.min(6, startFailures - 1));
                pause = pause.compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : pause;
                log.error("runtime did not start (attempt {}), next try in {}: {}", startFailures, pause, e.getMessage());
                status.restarting(e.getMessage());
                runtime.close();
                long until = System.nanoTime() + pause.toNanos();
                while (System.nanoTime() < until && !stopping.getAsBoolean() && !gone.getAsBoolean()) {
                    sleep(100);
                }
            }
        }
        return ready;
    }

    /** Stops and starts the runtime (after a failure, or on request); a card that is down stops it instead. */
    void restart(String why) {
        ready = false;
        if (card.cardDown()) {
            release(why + "; " + cardDownReason());
            return;
        }
        status.restarting(why);
        try {
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
