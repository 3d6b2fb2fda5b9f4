package dev.axfleet.worker;

import dev.axfleet.broker.Job;
import dev.axfleet.broker.Kind;
import dev.axfleet.broker.TaskOutput;
import dev.axfleet.worker.runtime.EngineException;
import java.util.concurrent.CancellationException;

/**
 * How one kind of work runs on a resident runtime. The {@link JobLoop} walks every job through the same life
 * (queued, running, outcome) and calls the runner of the job's kind for the work itself.
 */
public interface Runner {
    Kind kind();

    /**
     * Does the job's work.
     *
     * @throws EngineException       the runtime failed; the loop restarts it and retries when that can help
     * @throws JobFailure            the job cannot be done as asked (it is answered with that error, nothing restarts)
     * @throws CancellationException the job was cancelled while it ran ({@link RunContext#cancelled()})
     */
    TaskOutput run(Job job, RunContext context) throws EngineException, JobFailure;
}
