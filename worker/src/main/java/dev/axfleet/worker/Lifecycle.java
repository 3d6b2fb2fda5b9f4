package dev.axfleet.worker;

import dev.axfleet.broker.ErrorCode;
import dev.axfleet.broker.Job;
import dev.axfleet.broker.JobError;
import dev.axfleet.broker.JobResult;
import dev.axfleet.broker.Outcome;
import dev.axfleet.broker.Task;
import dev.axfleet.worker.runtime.EngineException;
import java.time.Instant;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * The decisions of a job's life that need no broker, runtime or clock of their own: whether a job runs at all, what
 * a failure of its runtime leads to, and the answers of jobs that end without running. {@link JobLoop} acts on them.
 */
final class Lifecycle {
    private final String workerId;

    Lifecycle(String workerId) {
        this.workerId = workerId;
    }

    /** How long the job waited between its creation and {@code received}; null when it carried no creation time. */
    static Long queueMs(Job job, Instant received) {
        return job.createdAt() == null ? null : Math.max(0, received.toEpochMilli() - job.createdAt().toEpochMilli());
    }

    /**
     * The refusal of a job whose task this model does not take, naming the tasks it does, and why: a part of it not
     * installed ({@code missing}), or it does other kinds of work.
     */
    JobResult refuseTask(Job job, Set<Task> taken, String missing) {
        Set<String> names = new TreeSet<>();
        Set<String> kinds = new TreeSet<>();
        taken.forEach(t -> {
            names.add(t.wire());
            kinds.add(t.kind().wire());
        });
        String kind = String.join(" and ", kinds);
        String why = missing != null ? missing + " (it takes " + String.join(", ", names) + ")"
                : "it is " + article(kind) + " model (it takes " + String.join(", ", names) + "); " + job.task().wire() + " jobs go to "
                + article(job.kind().wire()) + " model";
        return JobResult.failed(job, Outcome.ERROR, JobError.invalid("task", "model " + job.model() + " does not take "
                + job.task().wire() + " jobs: " + why), null, 0, workerId);
    }

    private static String article(String noun) {
        return ("aeiou".indexOf(noun.charAt(0)) >= 0 ? "an " : "a ") + noun;
    }

    /** Before a job runs: its answer when it was cancelled or expired while queued, else empty (it runs). */
    Optional<JobResult> beforeRun(Job job, Instant now, boolean cancelled, Long queueMs) {
        if (cancelled) {
            return Optional.of(failed(job, Outcome.CANCELLED, JobError.of(ErrorCode.CANCELLED, "cancelled before it ran"), queueMs, 0));
        }
        if (job.isExpired(now)) {
            return Optional.of(failed(job, Outcome.EXPIRED, JobError.of(ErrorCode.EXPIRED, "expired at " + job.expiresAt()
                    + " before a worker took it"), queueMs, 0));
        }
        return Optional.empty();
    }

    /** The answer for a job that ended while its runtime was starting (or the card was away). */
    JobResult ended(Job job, boolean cancelled, Long queueMs, long runMs) {
        return cancelled
                ? failed(job, Outcome.CANCELLED, JobError.of(ErrorCode.CANCELLED, "cancelled while the runtime was starting"), queueMs, runMs)
                : failed(job, Outcome.EXPIRED, JobError.of(ErrorCode.EXPIRED, "expired while the runtime was starting"), queueMs, runMs);
    }

    JobResult cancelledWhileRunning(Job job, String why, Long queueMs, long runMs) {
        return failed(job, Outcome.CANCELLED, JobError.of(ErrorCode.CANCELLED, "cancelled while running" + (why == null ? "" : ": " + why)),
                queueMs, runMs);
    }

    /** What a failure of the runtime during attempt {@code attempt} (0 first) leads to. */
    sealed interface AfterFailure permits Retry, Fail {
    }

    /** Restart the runtime and run the job again. */
    record Retry() implements AfterFailure {
    }

    /** Answer the job with this error; {@code restart} says whether the runtime is restarted first anyway. */
    record Fail(JobError error, boolean restart) implements AfterFailure {
    }

    /**
     * A runtime that died or stalled is restarted and the job run once more, unless part of its answer went out
     * already (a retry would repeat it) or this was the retry. A refusal restarts nothing.
     */
    AfterFailure afterFailure(EngineException e, int attempt, boolean streamed) {
        if (!e.restartHelps()) {
            return new Fail(switch (e.kind()) {
                case CONTEXT_FULL -> JobError.of(ErrorCode.CONTEXT_LENGTH_EXCEEDED, e.getMessage());
                case REJECTED -> e.field() != null ? JobError.invalid(e.field(), e.getMessage()) : JobError.of(ErrorCode.REJECTED, e.getMessage());
                case UNAVAILABLE, STALLED -> throw new IllegalStateException("unreachable: a restart helps " + e.kind());
            }, false);
        }
        if (attempt == 0 && !streamed) {
            return new Retry();
        }
        return new Fail(JobError.of(ErrorCode.RUNTIME_ERROR, e.getMessage()
                + (attempt > 0 ? " (twice; the runtime was restarted each time)" : " mid-answer; the runtime was restarted")), true);
    }

    JobResult failed(Job job, Outcome outcome, JobError error, Long queueMs, long runMs) {
        return JobResult.failed(job, outcome, error, queueMs, runMs, workerId);
    }
}
