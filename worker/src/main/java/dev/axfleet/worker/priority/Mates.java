package dev.axfleet.worker.priority;

import dev.axfleet.broker.WorkerState;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The other workers of this worker's model, as their retained states say: which have the model on their card and which
 * are free (ready, holding no job, not held back by their card). A worker handed a job is not free again until it has
 * said so in a state published after the handoff: its announcement may be late, and a worker off the network says
 * nothing at all, so it gets at most one job it cannot run before it is back.
 */
public final class Mates {
    private final String model;
    private final String self;
    private final Map<String, WorkerState> states = new ConcurrentHashMap<>();
    private final Set<String> handed = ConcurrentHashMap.newKeySet();
    private volatile Runnable onChange = () -> { };

    public Mates(String model, String self) {
        this.model = model;
        this.self = self;
    }

    void onChange(Runnable r) {
        this.onChange = r;
    }

    /** A worker's retained state as the broker passed it on; other models' and this worker's own are left out. */
    public void update(WorkerState s) {
        if (s.worker() == null || s.worker().equals(self) || !model.equals(s.model())) {
            return;
        }
        states.put(s.worker(), s);
        handed.remove(s.worker());
        onChange.run();
    }

    /** Mates that have the model loaded and take a job now, fewest jobs done first (so work spreads), then by name. */
    List<String> free() {
        return states.values().stream().filter(s -> resident(s) && s.queued() == 0 && s.held() == null && !handed.contains(s.worker()))
                .sorted(Comparator.comparingLong(WorkerState::jobsDone).thenComparing(WorkerState::worker))
                .map(WorkerState::worker).toList();
    }

    /** Whether another worker has the model on its card, able to run it (its card not held back). */
    boolean residentElsewhere() {
        return states.values().stream().anyMatch(s -> resident(s) && s.held() == null);
    }

    /** A job was handed to {@code worker}: it is not free until it says so again. */
    void handed(String worker) {
        handed.add(worker);
    }

    private static boolean resident(WorkerState s) {
        return s.phase() == WorkerState.Phase.READY;
    }
}
