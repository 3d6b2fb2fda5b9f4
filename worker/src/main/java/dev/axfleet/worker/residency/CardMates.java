package dev.axfleet.worker.residency;

import dev.axfleet.broker.CardRef;
import dev.axfleet.broker.WorkerState;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The other workers whose models share this worker's card, as their retained states say (every worker reads
 * {@code axfleet/v1/workers/+/+}): what they hold, whether they are busy or pinned, when each was last used.
 */
public final class CardMates {
    private final CardRef card;
    private final String self;
    private final Map<String, WorkerState> mates = new ConcurrentHashMap<>();

    public CardMates(CardRef card, String selfWorkerId) {
        this.card = card;
        this.self = selfWorkerId;
    }

    /** A worker's state as the broker passed it on; states of other cards and of this worker are left out. */
    public void update(WorkerState s) {
        if (s.worker() == null || s.worker().equals(self)) {
            return;
        }
        if (card.equals(s.card())) {
            mates.put(s.worker(), s);
        } else {
            mates.remove(s.worker());
        }
        synchronized (this) {
            notifyAll();
        }
    }

    /** A retained state cleared (an empty payload) on the worker's topic. */
    public void forget(String worker) {
        mates.remove(worker);
    }

    public List<WorkerState> snapshot() {
        return List.copyOf(mates.values());
    }

    public WorkerState get(String worker) {
        return mates.get(worker);
    }

    /** Waits up to {@code millis} for news from any card-mate. */
    public synchronized void await(long millis) throws InterruptedException {
        wait(millis);
    }
}
