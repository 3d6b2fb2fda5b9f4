package dev.axfleet.deploy.cli;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.axfleet.broker.CardRef;
import dev.axfleet.broker.WorkerState;
import dev.axfleet.broker.residency.KeepAlive;
import dev.axfleet.broker.residency.Residence;
import dev.axfleet.config.Settings;
import dev.axfleet.deploy.Axfleet;
import dev.axfleet.deploy.UserError;
import dev.axfleet.deploy.models.ModelCatalog;
import dev.axfleet.deploy.models.ModelsCommand;
import dev.axfleet.worker.residency.Room;
import dev.axfleet.worker.residency.RoomPlan;
import java.io.PrintStream;
import java.net.http.HttpResponse;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/**
 * {@code axfleet plan [MODEL...]}: whether models fit on the card together, from the catalog's footprints and their
 * sources; and, when the fleet runs, what loading each of them now would unload (the workers' own rule, RoomPlan, on
 * what /health says is loaded).
 */
@Command(name = "plan", description = "Whether models fit on the card together (7040 MiB of CMM, keeping models.margin_mib free), with "
        + "where each footprint comes from; and, when the fleet runs, what loading them now would unload (least recently used "
        + "idle models first; pinned ones never). Exit 0 when they fit together, 1 when not.")
public final class PlanCommand implements Callable<Integer> {
    @ParentCommand
    Axfleet root;

    @Mixin
    GatewayOption gateway;

    @Parameters(paramLabel = "MODEL", arity = "0..*", description = "model ids or aliases (none: the models pulled here)")
    List<String> models = List.of();

    @Option(names = "--offline", description = "only the footprints: do not ask the running fleet what is loaded")
    boolean offline;

    @Override
    public Integer call() {
        int fits = ModelsCommand.plan(root.settings(), models, root.out());
        if (!offline && !models.isEmpty()) {
            try {
                now(root.settings(), root.out());
            } catch (UserError e) {
                root.out().println("what is loaded now is not known: " + e.getMessage());
            } catch (Exception e) {
                root.out().println("what is loaded now is not known: " + UserError.describe(e));
            }
        }
        return fits;
    }

    /** What loading the models one after another would do to each card's models now. */
    private void now(Settings s, PrintStream out) throws Exception {
        GatewayApi api = gateway.api(s);
        HttpResponse<String> r = api.send(api.request("/health").GET().build(), HttpResponse.BodyHandlers.ofString());
        JsonObject h = JsonParser.parseString(r.body()).getAsJsonObject();
        ModelCatalog catalog = ModelCatalog.builtIn();
        long margin = s.integer("models.margin_mib", 256);
        int maxLoaded = s.integer("models.max_loaded_models", 0);
        Map<String, List<WorkerState>> byCard = new LinkedHashMap<>();
        for (Map.Entry<String, JsonElement> m : h.getAsJsonObject("models").entrySet()) {
            for (JsonElement we : m.getValue().getAsJsonObject().getAsJsonArray("workers")) {
                WorkerState w = worker(m.getKey(), we.getAsJsonObject());
                if (w.card() != null && w.phase() != WorkerState.Phase.OFFLINE) {
                    byCard.computeIfAbsent(w.card().toString(), k -> new ArrayList<>()).add(w);
                }
            }
        }
        JsonObject cards = h.has("cards") ? h.getAsJsonObject("cards") : new JsonObject();
        for (Map.Entry<String, List<WorkerState>> c : byCard.entrySet()) {
            List<WorkerState> mates = new ArrayList<>(c.getValue());
            RoomPlan.Free free = free(cards.has(c.getKey()) ? cards.getAsJsonObject(c.getKey()) : null, mates);
            out.println("card " + c.getKey() + " now: " + free.freeMiB() + " MiB free (" + (free.readBack() ? "read back from the card"
                    : "counted from the footprints") + "); loaded: " + describe(mates));
            for (String name : models) {
                String id = catalog.canonical(name);
                WorkerState self = mates.stream().filter(w -> w.model().equals(id)).findFirst().orElse(null);
                if (self == null) {
                    out.println("  " + id + ": no worker of it on this card");
                    continue;
                }
                if (self.holdsCard()) {
                    out.println("  " + id + ": loaded already");
                    continue;
                }
                long need = catalog.find(id).map(ModelCatalog.Entry::cmmMib).map(Integer::longValue)
                        .orElse(self.residence() == null ? 0 : self.residence().cmmMiB());
                List<WorkerState> others = mates.stream().filter(w -> w != self).map(PlanCommand::asIdle).toList();
                RoomPlan.Decision d = RoomPlan.decide(id, need, margin, maxLoaded, free, others);
                if (d instanceof RoomPlan.Fits) {
                    out.println("  " + id + ": fits beside them; nothing is unloaded");
                } else if (d instanceof RoomPlan.Evict e) {
                    List<String> names = new ArrayList<>();
                    for (WorkerState v : e.victims()) {
                        WorkerState was = mates.stream().filter(w -> w.worker().equals(v.worker())).findFirst().orElse(v);
                        names.add(v.model() + (was.queued() > 0 ? " (after its job)" : ""));
                    }
                    out.println("  " + id + ": would unload " + String.join(", ", names));
                    Set<String> gone = Set.copyOf(e.victims().stream().map(WorkerState::worker).toList());
                    mates.replaceAll(w -> gone.contains(w.worker()) ? w.withPhase(WorkerState.Phase.UNLOADED, null, Instant.now()) : w);
                    free = new RoomPlan.Free(free.freeMiB() + e.victims().stream().mapToLong(v -> v.residence() == null ? 0 : v.residence().cmmMiB()).sum(),
                            free.totalMiB(), free.readBack(), List.of());
                } else if (d instanceof RoomPlan.Refuse f) {
                    out.println("  " + id + ": cannot be loaded now: " + f.why());
                    continue;
                } else if (d instanceof RoomPlan.Wait wait) {
                    out.println("  " + id + ": would wait: " + wait.why());
                    continue;
                }
                mates.replaceAll(w -> w == self ? w.withPhase(WorkerState.Phase.READY, null, Instant.now()) : w);
                free = new RoomPlan.Free(free.freeMiB() - need, free.totalMiB(), free.readBack(), List.of());
            }
        }
    }

    /** For the plan a busy model counts as idle: it would be unloaded once its job is done. */
    private static WorkerState asIdle(WorkerState w) {
        return w.withQueued(0);
    }

    private static RoomPlan.Free free(JsonObject card, List<WorkerState> mates) {
        if (card != null && card.has("cmm_used_mib") && card.has("cmm_total_mib") && !(card.has("stale") && card.get("stale").getAsBoolean())) {
            long total = card.get("cmm_total_mib").getAsLong();
            return new RoomPlan.Free(total - card.get("cmm_used_mib").getAsLong(), total, true, List.of());
        }
        long held = mates.stream().filter(WorkerState::holdsCard).mapToLong(w -> w.residence() == null ? 0 : w.residence().cmmMiB()).sum();
        return new RoomPlan.Free(Room.CARD_CMM_MIB - held, Room.CARD_CMM_MIB, false, List.of());
    }

    private static String describe(List<WorkerState> mates) {
        List<String> out = new ArrayList<>();
        for (WorkerState w : mates) {
            if (w.holdsCard()) {
                out.add(w.model() + " " + (w.residence() == null ? "?" : w.residence().cmmMiB()) + " MiB ("
                        + (w.residence() != null && w.residence().pinned() ? "pinned" : w.queued() > 0 ? "busy" : w.phase().wire()) + ")");
            }
        }
        return out.isEmpty() ? "nothing" : String.join(", ", out);
    }

    /** A worker as /health describes it, with what the plan needs. */
    private static WorkerState worker(String model, JsonObject w) {
        String[] card = w.has("card") ? w.get("card").getAsString().split("/") : null;
        CardRef ref = card != null && card.length == 2 ? new CardRef(card[0], Integer.parseInt(card[1])) : null;
        WorkerState.Phase phase = dev.axfleet.broker.WireName.parse(WorkerState.Phase.class, w.get("phase").getAsString()).orElse(WorkerState.Phase.OFFLINE);
        Residence r = w.has("cmm_mib") ? new Residence(w.get("cmm_mib").getAsLong(), w.has("pinned") && w.get("pinned").getAsBoolean(),
                KeepAlive.FOREVER, w.has("last_used") ? Instant.parse(w.get("last_used").getAsString()) : null, null) : null;
        return new WorkerState(w.get("worker").getAsString(), model, phase, null, false, 0, 0, 0, 0, null,
                w.has("since") ? Instant.parse(w.get("since").getAsString()) : null, ref, null, List.of(), w.has("queued") ? w.get("queued").getAsInt() : 0,
                Set.of(), Set.of(), List.of(), r);
    }
}
