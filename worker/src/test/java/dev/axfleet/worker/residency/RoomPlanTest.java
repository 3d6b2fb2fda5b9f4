package dev.axfleet.worker.residency;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.axfleet.broker.CardProcess;
import dev.axfleet.broker.CardRef;
import dev.axfleet.broker.Task;
import dev.axfleet.broker.WorkerState;
import dev.axfleet.broker.residency.KeepAlive;
import dev.axfleet.broker.residency.Residence;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Whom to unload for a model that is to load, from the card-mates' states alone. */
class RoomPlanTest {
    private static final CardRef CARD = new CardRef("pi1", 0);

    static WorkerState mate(String model, WorkerState.Phase phase, long cmm, boolean pinned, long lastUsedSeconds, int queued) {
        return new WorkerState("pi1-" + model, model, phase, "axllm-serve", false, 0, 0, 0, 0, null, Instant.ofEpochSecond(1), CARD, null,
                List.of(100L + cmm), queued, Set.of(Task.CHAT), Set.of(), List.of(), new Residence(cmm, pinned, KeepAlive.FOREVER, Instant.ofEpochSecond(lastUsedSeconds), null));
    }

    static RoomPlan.Free free(long mib) {
        return new RoomPlan.Free(mib, 7040, true, List.of());
    }

    @Test
    void aModelThatFitsLoadsAndOneThatDoesNotUnloadsTheLeastRecentlyUsedIdleOne() {
        List<WorkerState> mates = List.of(mate("qwen3-0.6b", WorkerState.Phase.READY, 1972, false, 10, 0),
                mate("qwen3-1.7b", WorkerState.Phase.READY, 3375, false, 20, 0));
        assertInstanceOf(RoomPlan.Fits.class, RoomPlan.decide("minicpm4", 590, 256, 0, free(1675), mates));
        RoomPlan.Evict e = assertInstanceOf(RoomPlan.Evict.class, RoomPlan.decide("spare", 1972, 256, 0, free(1675), mates));
        assertEquals(List.of("qwen3-0.6b"), e.victims().stream().map(WorkerState::model).toList(), "the least recently used only");
        RoomPlan.Evict both = assertInstanceOf(RoomPlan.Evict.class, RoomPlan.decide("qwen3-4b", 6349, 256, 0, free(1675), mates));
        assertEquals(List.of("qwen3-0.6b", "qwen3-1.7b"), both.victims().stream().map(WorkerState::model).toList());
    }

    @Test
    void busyModelsAreWaitedForAndPinnedOnesNeverUnloaded() {
        List<WorkerState> busy = List.of(mate("qwen3-0.6b", WorkerState.Phase.READY, 1972, false, 10, 1),
                mate("qwen3-1.7b", WorkerState.Phase.READY, 3375, true, 5, 0));
        RoomPlan.Wait w = assertInstanceOf(RoomPlan.Wait.class, RoomPlan.decide("spare", 1972, 256, 0, free(1675), busy));
        assertTrue(w.why().contains("waiting for qwen3-0.6b to finish its job"), w.why());
        RoomPlan.Refuse r = assertInstanceOf(RoomPlan.Refuse.class, RoomPlan.decide("qwen3-4b", 6349, 256, 0, free(1675), busy));
        assertTrue(r.why().contains("qwen3-1.7b 3375 MiB (pinned)"), r.why());
        assertTrue(r.why().contains("qwen3-0.6b 1972 MiB (busy)"), r.why());
    }

    @Test
    void theCardsOtherUsersAreNamedAndALoadingModelIsNotUnloaded() {
        RoomPlan.Free taken = new RoomPlan.Free(800, 7040, true, List.of(new CardProcess(4242, "/usr/bin/python3", 6_000L * 1024)));
        List<WorkerState> loading = List.of(mate("qwen3-0.6b", WorkerState.Phase.LOADING, 1972, false, 1, 0));
        RoomPlan.Refuse r = assertInstanceOf(RoomPlan.Refuse.class, RoomPlan.decide("qwen3-4b", 6349, 256, 0, taken, loading));
        assertTrue(r.why().contains("pid 4242 /usr/bin/python3 6000 MiB (not an axfleet worker's)"), r.why());
        assertTrue(r.why().contains("qwen3-0.6b 1972 MiB (loading)"), r.why());
        assertTrue(r.why().startsWith("not enough free CMM"), r.why());
        RoomPlan.Wait w = assertInstanceOf(RoomPlan.Wait.class, RoomPlan.decide("spare", 1972, 256, 0, free(1675), loading));
        assertTrue(w.why().contains("waiting for qwen3-0.6b to finish loading"), "one loading is waited for, not refused: " + w.why());
        RoomPlan.Refuse tooBig = assertInstanceOf(RoomPlan.Refuse.class, RoomPlan.decide("huge", 7000, 256, 0, free(7000), List.of()));
        assertTrue(tooBig.why().contains("less memory than the model needs"), tooBig.why());
    }

    @Test
    void maxLoadedModelsCountsTheModelsOnTheCard() {
        List<WorkerState> mates = List.of(mate("a", WorkerState.Phase.READY, 100, false, 30, 0), mate("b", WorkerState.Phase.READY, 100, false, 20, 0),
                mate("c", WorkerState.Phase.UNLOADED, 100, false, 10, 0));
        assertInstanceOf(RoomPlan.Fits.class, RoomPlan.decide("d", 100, 0, 3, free(6000), mates));
        RoomPlan.Evict e = assertInstanceOf(RoomPlan.Evict.class, RoomPlan.decide("d", 100, 0, 2, free(6000), mates));
        assertEquals(List.of("b"), e.victims().stream().map(WorkerState::model).toList(), "the one used longest ago; c holds nothing");
    }
}
