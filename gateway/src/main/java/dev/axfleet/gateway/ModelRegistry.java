package dev.axfleet.gateway;

import dev.axfleet.broker.CardHealth;
import dev.axfleet.broker.CardRef;
import dev.axfleet.broker.Capability;
import dev.axfleet.broker.Kind;
import dev.axfleet.broker.WorkerState;
import dev.axfleet.gateway.bus.Bus;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The models this gateway can send jobs for, each with the kinds of work it does: those configured (accepted while
 * their workers still load: the coyote cannot survive a fast refusal), plus those any worker announced on the bus
 * (its retained state says the tasks it takes), with what each worker last said about itself. Names resolve as
 * Ollama's do on every route: {@code qwen3-1.7b} and {@code qwen3-1.7b:latest} are the same model.
 */
public final class ModelRegistry implements Bus.Announcements {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(ModelRegistry.class);
    private static final String LATEST = ":latest";

    private final Map<String, Kind> configured;
    private final Map<String, String> aliases;
    private final String fallback;
    private final Map<String, WorkerState> workers = new ConcurrentHashMap<>();
    private final Map<CardRef, CardHealth> cards = new ConcurrentHashMap<>();
    private final Duration cardStale;
    private final Clock clock;

    /**
     * @param configured models by name, with the kind each does (gateway.models)
     * @param aliases    names clients already use, mapped to models here (gateway.aliases)
     * @param fallback   the model answering unknown names of its kind, or null for a 404
     */
    public ModelRegistry(Map<String, Kind> configured, Map<String, String> aliases, String fallback, Duration cardStale, Clock clock) {
        this.configured = new LinkedHashMap<>(configured);
        this.aliases = Map.copyOf(aliases);
        this.fallback = fallback;
        this.cardStale = cardStale;
        this.clock = clock;
    }

    /** A name as clients write it, without Ollama's {@code :latest} tag. */
    public static String bare(String name) {
        return name != null && name.endsWith(LATEST) ? name.substring(0, name.length() - LATEST.length()) : name;
    }

    @Override
    public void card(CardHealth health) {
        cards.put(health.card(), health);
    }

    @Override
    public void workerState(WorkerState state) {
        workers.put(state.model() + "/" + state.worker(), state);
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

    public boolean knows(String model) {
        return configured.containsKey(model) || workers.values().stream().anyMatch(w -> w.model().equals(model));
    }

    /** The kinds of work a model does: what its workers announced, else what it was configured as. */
    public Set<Kind> kinds(String model) {
        Set<Kind> out = EnumSet.noneOf(Kind.class);
        workers.values().stream().filter(w -> w.model().equals(model)).forEach(w -> out.addAll(w.kinds()));
        if (out.isEmpty() && configured.containsKey(model)) {
            out.add(configured.get(model));
        }
        return out;
    }

    /** Whether the model's workers announced what they take and {@code c} is not among it (false while none has). */
    public boolean lacks(String model, Capability c) {
        List<WorkerState> announced = workers.values().stream().filter(w -> w.model().equals(model) && !w.tasks().isEmpty()).toList();
        return !announced.isEmpty() && announced.stream().noneMatch(w -> w.capabilities().contains(c));
    }

    /** What the model's workers announced it takes beyond text. */
    public Set<Capability> capabilities(String model) {
        Set<Capability> out = EnumSet.noneOf(Capability.class);
        workers.values().stream().filter(w -> w.model().equals(model)).forEach(w -> out.addAll(w.capabilities()));
        return out;
    }

    /** The chat models whose workers announced {@code c}. */
    public List<String> modelsWith(Capability c) {
        return modelsOf(Kind.CHAT).stream().filter(m -> capabilities(m).contains(c)).toList();
    }

    /** Whether some model is known to do {@code kind}, or {@code kind} is the one configured model names can take. */
    private boolean does(String model, Kind kind) {
        Set<Kind> k = kinds(model);
        // A configured image model takes interrogation until its workers say otherwise (CLIP is optional).
        return k.contains(kind) || kind == Kind.INTERROGATION && k.contains(Kind.IMAGE) && !announced(model);
    }

    private boolean announced(String model) {
        return workers.values().stream().anyMatch(w -> w.model().equals(model) && !w.tasks().isEmpty());
    }

    /** The models that do {@code kind}, configured ones first. */
    public List<String> modelsOf(Kind kind) {
        List<String> out = new ArrayList<>();
        for (String m : models()) {
            if (does(m, kind)) {
                out.add(m);
            }
        }
        out.sort(java.util.Comparator.comparing(m -> !configured.containsKey(m)));
        return out;
    }

    /** What a name resolves to for a kind of work, or why it does not. */
    public sealed interface Resolution permits Found, NotFound, WrongKind {
    }

    public record Found(String model) implements Resolution {
    }

    public record NotFound(String name) implements Resolution {
    }

    /** The name is a model that does other work. */
    public record WrongKind(String model, Set<Kind> kinds) implements Resolution {
    }

    /**
     * The model a client's name means for {@code kind}: the model itself (with or without {@code :latest}), an alias's
     * model, or the fallback model when it does that kind (logged, as the client asked for something else).
     */
    public Resolution resolve(Kind kind, String name) {
        if (name == null) {
            return new NotFound(null);
        }
        String bare = bare(name);
        String model = knows(bare) ? bare : aliases.get(bare) != null ? aliases.get(bare) : aliases.get(name);
        if (model != null && knows(model)) {
            return does(model, kind) ? new Found(model) : new WrongKind(model, kinds(model));
        }
        if (model != null) {
            return new Found(model);
        }
        if (fallback != null && knows(fallback) && does(fallback, kind)) {
            log.info("model \"{}\" is not here; {} answers it (gateway.fallback_model)", name, fallback);
            return new Found(fallback);
        }
        return new NotFound(name);
    }

    /** Every name a client may use: the models and their aliases, for /v1/models and /api/tags. */
    public Set<String> names() {
        Set<String> out = new TreeSet<>(models());
        out.addAll(aliases.keySet());
        return out;
    }

    /** The model a listed name stands for (an alias's model, or the name itself). */
    public String target(String name) {
        String bare = bare(name);
        return knows(bare) ? bare : aliases.getOrDefault(bare, bare);
    }

    public Set<String> models() {
        Set<String> out = new TreeSet<>(configured.keySet());
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

    /**
     * Whether the model takes jobs now: a worker has it loaded, or has it unloaded on purpose (its next job loads it).
     */
    public boolean available(String model) {
        return workers.values().stream().anyMatch(w -> w.model().equals(model)
                && (w.phase() == WorkerState.Phase.READY || w.phase() == WorkerState.Phase.UNLOADED));
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
