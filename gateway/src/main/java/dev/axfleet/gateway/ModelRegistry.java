package dev.axfleet.gateway;

import dev.axfleet.broker.CardHealth;
import dev.axfleet.broker.CardRef;
import dev.axfleet.broker.WorkerState;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
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
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(ModelRegistry.class);

    private final Set<String> configured;
    private final Map<String, String> aliases;
    private final String fallback;
    private final Map<String, WorkerState> workers = new ConcurrentHashMap<>();
    private final Map<CardRef, CardHealth> cards = new ConcurrentHashMap<>();
    private final Duration cardStale;
    private final Clock clock;

    /**
     * @param aliases  names clients already use, mapped to models here (gateway.aliases)
     * @param fallback the model answering unknown names, or null for a 404
     */
    public ModelRegistry(Collection<String> configured, Map<String, String> aliases, String fallback, Duration cardStale, Clock clock) {
        this.configured = Set.copyOf(configured);
        this.aliases = Map.copyOf(aliases);
        this.fallback = fallback;
        this.cardStale = cardStale;
        this.clock = clock;
    }

    void updateCard(CardHealth health) {
        cards.put(health.card(), health);
    }

    /** Every card last heard of, by host/index. */
    public Map<CardRef, CardHealth> cards() {
        Map<CardRef, CardHealth> out = new TreeMap<>(java.util.Comparator.comparing(CardRef::toString));
        out.putAll(cards);
        return out;
    }

    /** A card's health when the monitor said it recently enough to trust it. */
    public Optional<CardHealth> freshCard(CardRef card) {
        return Optional.ofNullable(card == null ? null : cards.get(card)).filter(h -> h.freshAt(clock.instant(), cardStale));
    }

    /**
     * Why the model cannot run anything now: every live worker of it is on a card that is lost or being
     * reset. Empty when any worker could run it (or none is known: the broker keeps the job for later).
     */
    public Optional<String> cardsDown(String model) {
        List<WorkerState> live = workers.values().stream()
                .filter(w -> w.model().equals(model) && w.phase() != WorkerState.Phase.OFFLINE).toList();
        if (live.isEmpty()) {
            return Optional.empty();
        }
        List<String> down = new ArrayList<>();
        for (WorkerState w : live) {
            Optional<CardHealth> h = freshCard(w.card()).filter(c -> c.state().down());
            if (h.isEmpty()) {
                return Optional.empty();
            }
            down.add("card " + w.card() + " is " + h.get().state().wire());
        }
        return Optional.of(String.join(", ", new TreeSet<>(down)));
    }

    void update(WorkerState state) {
        workers.put(state.model() + "/" + state.worker(), state);
    }

    public boolean knows(String model) {
        return configured.contains(model) || workers.values().stream().anyMatch(w -> w.model().equals(model));
    }

    /**
     * The model a client's name means: the model itself, an alias's model, or the fallback model (logged, as the
     * client asked for something else). Empty when none applies.
     */
    public Optional<String> resolve(String name) {
        if (name == null) {
            return Optional.empty();
        }
        if (knows(name)) {
            return Optional.of(name);
        }
        String target = aliases.get(name);
        if (target != null) {
            return Optional.of(target);
        }
        if (fallback != null && knows(fallback)) {
            log.info("model \"{}\" is not here; {} answers it (gateway.fallback_model)", name, fallback);
            return Optional.of(fallback);
        }
        return Optional.empty();
    }

    /** Every name a client may use: the models and their aliases, for /v1/models and /api/tags. */
    public Set<String> names() {
        Set<String> out = new TreeSet<>(models());
        out.addAll(aliases.keySet());
        return out;
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
