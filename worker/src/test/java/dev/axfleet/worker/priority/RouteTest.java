package dev.axfleet.worker.priority;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.axfleet.broker.Job;
import dev.axfleet.broker.chat.ChatMessage;
import dev.axfleet.broker.chat.ChatParams;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Where a waiting job goes next, case by case (the decision table in {@link Route}'s documentation). */
class RouteTest {
    static final Instant NOW = Instant.ofEpochMilli(1_000_000);

    static Job job(Instant expires) {
        return new Job("j1", "qwen3-0.6b", new ChatParams(List.of(ChatMessage.user("hi")), null, null, null, null, null, null, null, null,
                null, false), "r/j1", null, NOW.minusMillis(10), expires, false);
    }

    static Route.View view(boolean free, boolean mayRun, boolean residentHere, boolean residentElsewhere, String... freeMates) {
        return new Route.View(free, mayRun, residentHere, residentElsewhere, List.of(freeMates));
    }

    @Test
    void aFreeWorkerWithTheModelRunsItHere() {
        assertEquals(Route.Kind.RUN_HERE, Route.decide(job(null), false, NOW, view(true, true, true, true, "pi2"), 0, 500).kind());
    }

    @Test
    void aFreeWorkerWithoutTheModelRunsItOnlyWhenNobodyHasItLoaded() {
        assertEquals(Route.Kind.RUN_HERE, Route.decide(job(null), false, NOW, view(true, true, false, false), 0, 0).kind(),
                "nobody has it: its first job loads it here");
        Route.Decision d = Route.decide(job(null), false, NOW, view(true, true, false, true, "pi2"), 0, 0);
        assertEquals(Route.Kind.PASS, d.kind());
        assertEquals("pi2", d.to());
        assertEquals(Route.Kind.WAIT, Route.decide(job(null), false, NOW, view(true, true, false, true), 0, 0).kind(),
                "the worker that has it is busy: the job waits here, visible, until it is free");
    }

    @Test
    void aBusyOrHeldWorkerPassesItToAFreeOne() {
        assertEquals("pi2", Route.decide(job(null), false, NOW, view(false, true, true, true, "pi2", "pi3"), 9000, 500).to());
        assertEquals(Route.Kind.PASS, Route.decide(job(null), false, NOW, view(true, false, true, true, "pi2"), 0, 500).kind(),
                "a hot card holds this worker back, not the job");
        assertEquals(Route.Kind.WAIT, Route.decide(job(null), false, NOW, view(false, true, true, true), 9000, 500).kind());
        assertEquals(Route.Kind.WAIT, Route.decide(job(null), false, NOW, view(true, false, true, false), 0, 500).kind());
    }

    @Test
    void cancelledAndExpiredJobsAreAnsweredWhileTheyWait() {
        assertEquals(Route.Kind.CANCELLED, Route.decide(job(null), true, NOW, view(false, true, true, false), 0, 0).kind());
        assertEquals(Route.Kind.EXPIRED, Route.decide(job(NOW), false, NOW, view(true, true, true, false), 0, 0).kind());
    }

    @Test
    void aJobThatCannotFinishBeforeItsDeadlineIsAnsweredBeforeItRuns() {
        Job in2s = job(NOW.plusMillis(2000));
        assertEquals(Route.Kind.WOULD_NOT_FINISH, Route.decide(in2s, false, NOW, view(false, true, true, false), 1800, 500).kind(),
                "1.8 s ahead of it and at least 0.5 s of its own");
        assertEquals(Route.Kind.WAIT, Route.decide(in2s, false, NOW, view(false, true, true, false), 1000, 500).kind(), "in time: it waits");
        assertEquals(Route.Kind.WOULD_NOT_FINISH, Route.decide(in2s, false, NOW, view(true, true, true, false), 0, 2500).kind(),
                "free, but its shortest run alone is longer than what is left");
        assertEquals(Route.Kind.PASS, Route.decide(in2s, false, NOW, view(false, true, true, false, "pi2"), 1800, 500).kind(),
                "a free worker may still make it");
        assertEquals(Route.Kind.RUN_HERE, Route.decide(in2s, false, NOW, view(true, true, true, false), 0, 0).kind(),
                "never run here: no pace, no early answer");
        assertEquals(Route.Kind.WAIT, Route.decide(job(null), false, NOW, view(false, true, true, false), 1_000_000, 500).kind(),
                "no deadline, nothing is too late");
    }
}
