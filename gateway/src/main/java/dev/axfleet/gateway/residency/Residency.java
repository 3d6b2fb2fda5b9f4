package dev.axfleet.gateway.residency;

import dev.axfleet.broker.CardHealth;
import dev.axfleet.broker.CardProcess;
import dev.axfleet.broker.WorkerState;
import dev.axfleet.broker.residency.KeepAlive;
import dev.axfleet.broker.residency.ResidencyReply;
import dev.axfleet.broker.residency.ResidencyRequest;
import dev.axfleet.gateway.ApiException;
import dev.axfleet.gateway.ModelRegistry;
import dev.axfleet.gateway.bus.Bus;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which models are on the card and asking for one to come or go, for every facade: Ollama's empty-prompt calls and
 * {@code /api/ps}, the OpenAI-side admin routes, {@code axfleet load|unload}. The workers decide (each keeps its model's
 * place on its card, docs/decisions.md "Models that come and go"); the gateway asks them over their control topics and
 * reads what they announce.
 */
public final class Residency {
    private static final Logger log = LoggerFactory.getLogger(Residency.class);
    private static final long MIB = 1024L * 1024;

    private final Bus bus;
    private final ModelRegistry registry;
    private final Duration loadTimeout;
    private final Clock clock;

    /** @param loadTimeout how long a load may take, waiting for room included (gateway.request_timeout) */
    public Residency(Bus bus, ModelRegistry registry, Duration loadTimeout, Clock clock) {
        this.bus = bus;
        this.registry = registry;
        this.loadTimeout = loadTimeout;
        this.clock = clock;
    }

    /**
     * Has one worker of the model load it (one already loaded, or loading, is asked first; else the one whose card has the
     * most free memory) and waits for it. {@code keepAlive} null: as the worker keeps it.
     */
    public ResidencyReply load(String model, KeepAlive keepAlive, String by) throws ApiException {
        List<WorkerState> live = live(model);
        if (live.isEmpty()) {
            throw ApiException.busy("no worker of " + model + " is connected (axfleet ps shows the workers); it cannot be loaded now", 5);
        }
        WorkerState w = live.stream().min(Comparator.comparingInt((WorkerState s) -> rank(s.phase())).thenComparing(s -> -freeMiB(s))).orElseThrow();
        ResidencyReply r = await(bus.residency(w, ResidencyRequest.Action.LOAD, keepAlive, by, loadTimeout), w, "load");
        log.info("load of {} on {} asked by {}: {}{}", model, w.worker(), by, r.outcome().wire(), r.message() == null ? "" : " (" + r.message() + ")");
        return switch (r.outcome()) {
            case LOADED -> r;
            case INSUFFICIENT_MEMORY -> throw new ApiException(503, "insufficient card memory: " + r.message(), "model", "insufficient_memory",
                    Map.of("X-Should-Retry", "false"));
            case REFUSED, UNLOADED, FAILED -> throw new ApiException(502, model + " was not loaded: " + r.message(), "model", "runtime_unavailable",
                    Map.of("X-Should-Retry", "false"));
        };
    }

    /**
     * Has every worker of the model unload it and waits up to {@code wait} for their answers; a pinned model is refused
     * with 409. Returns the answers that came.
     */
    public List<ResidencyReply> unload(String model, String by, Duration wait) throws ApiException {
        List<WorkerState> live = live(model);
        if (live.stream().anyMatch(w -> w.residence() != null && w.residence().pinned())) {
            throw new ApiException(409, model + " is pinned (models.pinned): it is not unloaded on request", "model", "model_pinned", Map.of());
        }
        List<CompletableFuture<ResidencyReply>> asked = new ArrayList<>();
        for (WorkerState w : live) {
            asked.add(bus.residency(w, ResidencyRequest.Action.UNLOAD, null, by, wait));
        }
        List<ResidencyReply> out = new ArrayList<>();
        for (int i = 0; i < asked.size(); i++) {
            try {
                out.add(asked.get(i).get());
            } catch (ExecutionException e) {
                log.info("unload of {} on {}: no answer within {} ({}); it unloads once its job is done", model, live.get(i).worker(), wait,
                        e.getCause().toString());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        if (!out.isEmpty() && out.stream().allMatch(r -> r.outcome() == ResidencyReply.Outcome.REFUSED)) {
            throw new ApiException(409, out.get(0).message(), "model", "model_pinned", Map.of());
        }
        log.info("unload of {} asked by {}: {}", model, by, out.stream().map(r -> r.worker() + " " + r.outcome().wire()).toList());
        return out;
    }

    /**
     * A model on the card (or being loaded onto it), as {@code /api/ps} shows it.
     *
     * @param cmmBytes     the card memory it holds: the card's reading of its runtime's processes, else its footprint
     * @param expiresAt    when it will be unloaded if unused; null: never
     * @param loadingSince when its load began, while no worker of it is ready; else null
     */
    public record Loaded(String model, long cmmBytes, Instant expiresAt, Instant loadingSince, int contextTokens, boolean pinned) {
    }

    /** Every model some worker holds on its card, or is loading. */
    public List<Loaded> loaded() {
        List<Loaded> out = new ArrayList<>();
        registry.workersByModel().forEach((model, workers) -> {
            List<WorkerState> holding = workers.stream().filter(WorkerState::holdsCard).toList();
            if (holding.isEmpty()) {
                return;
            }
            boolean ready = holding.stream().anyMatch(w -> w.phase() == WorkerState.Phase.READY);
            Instant loadingSince = ready ? null : holding.stream().map(WorkerState::since).filter(java.util.Objects::nonNull)
                    .min(Instant::compareTo).orElse(clock.instant());
            long bytes = holding.stream().mapToLong(this::cmmBytes).max().orElse(0);
            boolean forever = holding.stream().anyMatch(w -> w.residence() == null || w.residence().pinned() || w.residence().keepAlive().forever());
            Instant expires = forever ? null : holding.stream().map(w -> w.residence().expiresAt() != null ? w.residence().expiresAt()
                    : w.residence().keepAlive().expiry(clock.instant()).orElse(null)).filter(java.util.Objects::nonNull).max(Instant::compareTo).orElse(null);
            out.add(new Loaded(model, bytes, expires, loadingSince, registry.contextTokens(model),
                    holding.stream().anyMatch(w -> w.residence() != null && w.residence().pinned())));
        });
        return out;
    }

    /** What a worker's model holds on its card: the card's own reading of its processes when the monitor has one. */
    private long cmmBytes(WorkerState w) {
        Optional<CardHealth> h = registry.freshCard(w.card());
        long read = h.map(c -> c.readings().processes().stream().filter(p -> w.runtimePids().contains(p.pid()))
                .mapToLong(CardProcess::npuMemoryKiB).sum() * 1024).orElse(0L);
        return read > 0 ? read : w.residence() == null ? 0 : w.residence().cmmMiB() * MIB;
    }

    private List<WorkerState> live(String model) {
        return registry.workersByModel().getOrDefault(model, List.of()).stream()
                .filter(w -> w.phase() != WorkerState.Phase.OFFLINE && w.phase() != WorkerState.Phase.STOPPING).toList();
    }

    private long freeMiB(WorkerState w) {
        return registry.freshCard(w.card()).map(h -> h.readings().cmmFreeMiB()).orElse(0L);
    }

    /** Which worker to ask first: one that has the model already, then one on its way, then the others. */
    private static int rank(WorkerState.Phase p) {
        return switch (p) {
            case READY -> 0;
            case LOADING, RESTARTING -> 1;
            case STARTING -> 2;
            case UNLOADED -> 3;
            case PAUSED, STOPPING, OFFLINE -> 4;
        };
    }

    private ResidencyReply await(CompletableFuture<ResidencyReply> f, WorkerState w, String what) throws ApiException {
        try {
            return f.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof TimeoutException) {
                throw new ApiException(504, "worker " + w.worker() + " did not answer the " + what + " of " + w.model() + " within "
                        + loadTimeout.toSeconds() + " s (gateway.request_timeout)", null, "timeout", Map.of("X-Should-Retry", "false"));
            }
            throw ApiException.busy("the " + what + " request did not reach the broker: " + e.getCause(), 5);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw ApiException.busy("interrupted", 5);
        }
    }
}
