package dev.axfleet.worker.priority;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.axfleet.broker.CardRef;
import dev.axfleet.broker.WorkerState;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Which other workers of the model take a job now, as their retained states say. */
class MatesTest {
    static WorkerState state(String worker, String model, WorkerState.Phase phase, int queued, long done) {
        return new WorkerState(worker, model, phase, "axllm-serve", true, 2048, done, 0, 0, null, null, new CardRef(worker, 0), null,
                List.of(), queued, null);
    }

    @Test
    void freeMeansLoadedHoldingNothingAndNotHeldBack() {
        Mates m = new Mates("qwen3-0.6b", "pi1-qwen3-0.6b");
        m.update(state("pi1-qwen3-0.6b", "qwen3-0.6b", WorkerState.Phase.READY, 0, 0));
        m.update(state("pi2-qwen3-0.6b", "qwen3-0.6b", WorkerState.Phase.READY, 0, 7));
        m.update(state("pi3-qwen3-0.6b", "qwen3-0.6b", WorkerState.Phase.READY, 0, 2));
        m.update(state("pi4-qwen3-0.6b", "qwen3-0.6b", WorkerState.Phase.READY, 1, 0));
        m.update(state("pi5-qwen3-0.6b", "qwen3-0.6b", WorkerState.Phase.UNLOADED, 0, 0));
        m.update(state("pi6-qwen3-0.6b", "qwen3-0.6b", WorkerState.Phase.READY, 0, 0).withHeld("card hot"));
        m.update(state("pi7-other", "other", WorkerState.Phase.READY, 0, 0));
        assertEquals(List.of("pi3-qwen3-0.6b", "pi2-qwen3-0.6b"), m.free(), "not itself, not busy, unloaded, held or another model's; fewest jobs done first");
        assertTrue(m.residentElsewhere());
    }

    @Test
    void aWorkerHandedAJobIsNotFreeUntilItSaysSoAgain() {
        Mates m = new Mates("qwen3-0.6b", "pi1-qwen3-0.6b");
        WorkerState pi2 = state("pi2-qwen3-0.6b", "qwen3-0.6b", WorkerState.Phase.READY, 0, 0);
        m.update(pi2);
        m.handed("pi2-qwen3-0.6b");
        assertEquals(List.of(), m.free(), "its state is from before the handoff");
        m.update(pi2.withQueued(1));
        assertEquals(List.of(), m.free());
        m.update(pi2);
        assertEquals(List.of("pi2-qwen3-0.6b"), m.free());
        m.update(WorkerState.offline("pi2-qwen3-0.6b", "qwen3-0.6b", new CardRef("pi2", 0)));
        assertFalse(m.residentElsewhere(), "offline: nobody else has it");
    }
}
