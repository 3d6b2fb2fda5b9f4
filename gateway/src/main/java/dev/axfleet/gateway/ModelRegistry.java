package dev.axfleet.gateway;

import dev.axfleet.broker.WorkerState;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The models this gateway can send jobs for: those configured, plus those any worker announced on the bus
 * (its retained state), with what each worker last said about itself.
 */
public final class ModelRegistry {
    private final Set<String> configured;
    private final Map<String, WorkerState> workers = new ConcurrentHashMap<>();

    public ModelRegistry(Collection<String> configured) {
        this.configured = Set.copyOf(configured);
    }

    void update(WorkerState state) {
        workers.put(state.model() + "/" + state.worker(), state);
    }

    public boolean knows(String model) {
        return configured.contains(model) || workers.values().stream().anyMatch(w -> w.model().equals(model));
    }

    public Set<String> models() {
        Set<String> out = new TreeSet<>(configured);
        workers.values().forEach(w -> out.add(w.model()));
        return out;
    }

    /** Every worker last heard of, by model. */
    public Map<String, List<WorkerState>> workersByModel() {
        Map<String, List<WorkerState>> out = new TreeMap<>();
        models().forEach(m -> out.put(m, new ArrayList<>()));
        workers.values().forEach(w -> out.computeIfAbsent(w.model(), k -> new ArrayList<>()).add(w));
        return out;
    }

    /** True when any worker of the model runs axfleet's emulator instead of the card. */
    public boolean emulated(String model) {
        return workers.values().stream().anyMatch(w -> w.model().equals(model) && w.emulated());
    }

    public boolean ready(String model) {
        return workers.values().stream().anyMatch(w -> w.model().equals(model) && w.phase() == WorkerState.Phase.READY);
    }

    /** The model's context length as its workers reported it, or 0 when none has. */
    public int contextTokens(String model) {
        return workers.values().stream().filter(w -> w.model().equals(model)).mapToInt(WorkerState::contextTokens).max().orElse(0);
    }

    /** When the model was first announced (seconds since 1970), for /v1/models' "created". */
    public long since(String model) {
        return workers.values().stream().filter(w -> w.model().equals(model) && w.since() != null)
                .mapToLong(w -> w.since().getEpochSecond()).min().orElse(0);
    }
}
