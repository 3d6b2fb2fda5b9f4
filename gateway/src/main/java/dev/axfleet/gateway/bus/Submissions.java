package dev.axfleet.gateway.bus;

import dev.axfleet.broker.ErrorCode;
import dev.axfleet.broker.JobError;
import dev.axfleet.broker.JobResult;
import dev.axfleet.broker.Outcome;
import dev.axfleet.broker.Reply;
import dev.axfleet.broker.Task;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/** The jobs this gateway published and waits for: replies routed to them, counted per model, cancelled on the bus. */
final class Submissions implements Submission.Control {
    private final BusConnection bus;
    private final Map<String, Submission> waiting = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> pending = new ConcurrentHashMap<>();
    private final Consumer<Submission> onFinished;

    /** @param onFinished told when a job waits no more (its progress is no longer followed) */
    Submissions(BusConnection bus, Consumer<Submission> onFinished) {
        this.bus = bus;
        this.onFinished = onFinished;
    }

    /** An answer the gateway makes itself, for a job the bus never answered. */
    static JobResult gatewayFailure(Submission s, ErrorCode code, String message) {
        return JobResult.failed(s.id(), s.model(), s.task(), Outcome.ERROR, JobError.of(code, message), null, 0, null);
    }

    Submission add(String id, String model, Task task) {
        Submission s = new Submission(id, model, task, this);
        waiting.put(id, s);
        pending.computeIfAbsent(model, m -> new AtomicInteger()).incrementAndGet();
        return s;
    }

    boolean waits(String id) {
        return waiting.containsKey(id);
    }

    Submission get(String id) {
        return waiting.get(id);
    }

    void route(Reply r) {
        Submission s = waiting.get(r.id());
        if (s != null) {
            s.deliver(r);
        }
    }

    int pending(String model) {
        AtomicInteger n = pending.get(model);
        return n == null ? 0 : n.get();
    }

    Map<String, AtomicInteger> pendingByModel() {
        return pending;
    }

    List<Submission> all() {
        return List.copyOf(waiting.values());
    }

    @Override
    public void cancel(Submission s) {
        interrupt(s);
        finished(s);
    }

    @Override
    public void interrupt(Submission s) {
        bus.publishCancel(s.model(), s.id());
    }

    @Override
    public void finished(Submission s) {
        if (waiting.remove(s.id()) != null) {
            pending.get(s.model()).decrementAndGet();
            onFinished.accept(s);
        }
    }

    /** Cancels every job still waited for on the bus and answers its caller with {@code answer}; the cancels in flight. */
    List<CompletableFuture<?>> cancelAll(java.util.function.Function<Submission, JobResult> answer) {
        List<Submission> left = all();
        List<CompletableFuture<?>> cancels = left.stream().<CompletableFuture<?>>map(s -> bus.publishCancel(s.model(), s.id())).toList();
        left.forEach(s -> s.deliver(answer.apply(s)));
        return cancels;
    }
}
