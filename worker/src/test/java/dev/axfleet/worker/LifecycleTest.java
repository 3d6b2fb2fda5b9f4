package dev.axfleet.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.axfleet.broker.ErrorCode;
import dev.axfleet.broker.Job;
import dev.axfleet.broker.JobResult;
import dev.axfleet.broker.Outcome;
import dev.axfleet.broker.Task;
import dev.axfleet.broker.chat.ChatMessage;
import dev.axfleet.broker.chat.ChatParams;
import dev.axfleet.broker.embed.EmbedParams;
import dev.axfleet.worker.runtime.EngineException;
import java.time.Instant;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The decisions of a job's life, without a broker, a runtime or a clock. */
class LifecycleTest {
    static final Instant T0 = Instant.parse("2026-12-01T10:00:00Z");
    final Lifecycle lifecycle = new Lifecycle("w1");

    static Job chat(Instant created, Instant expires) {
        return new Job("j1", "qwen3-0.6b", new ChatParams(List.of(ChatMessage.user("hi")), null, null, null, null, null, null, null, null,
                null, false), "r/j1", null, created, expires, false);
    }

    @Test
    void aJobRunsUnlessItWasCancelledOrExpiredWhileQueued() {
        Job job = chat(T0, T0.plusSeconds(30));
        assertTrue(lifecycle.beforeRun(job, T0.plusSeconds(1), false, 1000L).isEmpty());
        JobResult cancelled = lifecycle.beforeRun(job, T0.plusSeconds(1), true, 1000L).orElseThrow();
        assertEquals(Outcome.CANCELLED, cancelled.outcome());
        assertEquals(ErrorCode.CANCELLED, cancelled.error().code());
        assertEquals(Task.CHAT, cancelled.task(), "the answer names the job's task");
        JobResult expired = lifecycle.beforeRun(job, T0.plusSeconds(30), false, 30_000L).orElseThrow();
        assertEquals(Outcome.EXPIRED, expired.outcome());
        assertEquals(30_000L, expired.queueMs());
        assertEquals("w1", expired.worker());
        assertTrue(lifecycle.beforeRun(chat(null, null), T0.plusSeconds(1_000_000), false, null).isEmpty(), "no expiry, no end");
    }

    @Test
    void queueTimeNeedsACreationTimeAndIsNeverNegative() {
        assertNull(Lifecycle.queueMs(chat(null, null), T0));
        assertEquals(250L, Lifecycle.queueMs(chat(T0, null), T0.plusMillis(250)));
        assertEquals(0L, Lifecycle.queueMs(chat(T0, null), T0.minusMillis(40)), "a publisher's clock ahead of the worker's");
    }

    @Test
    void aRuntimeThatDiedIsRestartedAndTheJobRunOnceMoreUnlessItsAnswerHadStarted() {
        EngineException died = new EngineException(EngineException.Kind.UNAVAILABLE, "connection refused");
        assertInstanceOf(Lifecycle.Retry.class, lifecycle.afterFailure(died, 0, false));
        Lifecycle.Fail midAnswer = assertInstanceOf(Lifecycle.Fail.class, lifecycle.afterFailure(died, 0, true));
        assertTrue(midAnswer.restart());
        assertEquals(ErrorCode.RUNTIME_ERROR, midAnswer.error().code());
        assertTrue(midAnswer.error().message().endsWith("mid-answer; the runtime was restarted"), midAnswer.error().message());
        Lifecycle.Fail twice = assertInstanceOf(Lifecycle.Fail.class,
                lifecycle.afterFailure(new EngineException(EngineException.Kind.STALLED, "no token for 20s"), 1, false));
        assertTrue(twice.error().message().contains("twice"), twice.error().message());
    }

    @Test
    void aRefusalRestartsNothingAndNamesTheFieldWhenTheRuntimeSaidWhich() {
        Lifecycle.Fail full = assertInstanceOf(Lifecycle.Fail.class,
                lifecycle.afterFailure(new EngineException(EngineException.Kind.CONTEXT_FULL, "prompt too long"), 0, false));
        assertEquals(ErrorCode.CONTEXT_LENGTH_EXCEEDED, full.error().code());
        assertEquals(false, full.restart());
        Lifecycle.Fail image = assertInstanceOf(Lifecycle.Fail.class, lifecycle.afterFailure(
                new EngineException(EngineException.Kind.REJECTED, "the input image: not a PNG", "params.init_image"), 0, false));
        assertEquals(ErrorCode.INVALID_JOB, image.error().code());
        assertEquals("params.init_image", image.error().field());
        Lifecycle.Fail plain = assertInstanceOf(Lifecycle.Fail.class, lifecycle.afterFailure(
                new EngineException(EngineException.Kind.REJECTED, "axllm serve: size 13x13 is not supported"), 0, false));
        assertEquals(ErrorCode.REJECTED, plain.error().code(), "a txt2img refusal blames no init_image");
        assertNull(plain.error().field());
    }

    @Test
    void aTaskTheModelDoesNotTakeIsRefusedNamingWhatItTakes() {
        Job embed = new Job("e1", "qwen3-0.6b", new EmbedParams(List.of("x"), null, true, EmbedParams.Format.FLOAT), "r/e1", null, null, null,
                false);
        JobResult r = lifecycle.refuseTask(embed, EnumSet.of(Task.CHAT), null);
        assertEquals(ErrorCode.INVALID_JOB, r.error().code());
        assertEquals("task", r.error().field());
        assertEquals("task: model qwen3-0.6b does not take embed jobs: it is a chat model (it takes chat); embed jobs go to an embedding model",
                r.error().message());
        JobResult partly = lifecycle.refuseTask(embed, EnumSet.of(Task.TXT2IMG), "its CLIP models are not installed");
        assertTrue(partly.error().message().contains("CLIP models are not installed (it takes txt2img)"), partly.error().message());
    }

    @Test
    void aJobThatEndedWhileTheRuntimeStartedIsAnsweredAsItEnded() {
        Job job = chat(T0, T0.plusSeconds(1));
        assertEquals(Outcome.CANCELLED, lifecycle.ended(job, true, 5L, 9).outcome());
        JobResult expired = lifecycle.ended(job, false, 5L, 9);
        assertEquals(Outcome.EXPIRED, expired.outcome());
        assertEquals(9, expired.runMs());
    }
}
