package dev.axfleet.broker;

/**
 * The one final answer to a job: the fields every kind shares, and what the job produced ({@link #output()}, in its
 * kind's shape) when it was done.
 *
 * @param task    what the job asked for; null only when a job was refused before its task could be read
 * @param output  what the job produced; null unless the outcome is {@link Outcome#DONE}
 * @param queueMs how long the job waited between its creation and the start of its run; null when the job carried
 *                no creation time
 * @param runMs   how long the run took
 * @param warnings what the worker could not do as asked or could not vouch for (an answer the runtime cut short, a key
 *                 the runtime ignores), in words; empty when none
 */
public record JobResult(
        String id,
        String model,
        Task task,
        Outcome outcome,
        TaskOutput output,
        JobError error,
        Long queueMs,
        long runMs,
        String worker,
        java.util.List<String> warnings) implements Reply {

    public JobResult {
        if (outcome == Outcome.DONE && output == null) {
            throw new IllegalArgumentException("a finished job has an output");
        }
        warnings = warnings == null ? java.util.List.of() : java.util.List.copyOf(warnings);
    }

    public JobResult(String id, String model, Task task, Outcome outcome, TaskOutput output, JobError error, Long queueMs, long runMs,
                     String worker) {
        this(id, model, task, outcome, output, error, queueMs, runMs, worker, java.util.List.of());
    }

    public static JobResult done(Job job, TaskOutput output, Long queueMs, long runMs, String worker) {
        return new JobResult(job.id(), job.model(), job.task(), Outcome.DONE, output, null, queueMs, runMs, worker);
    }

    public static JobResult failed(String id, String model, Task task, Outcome outcome, JobError error, Long queueMs, long runMs,
                                   String worker) {
        return new JobResult(id, model, task, outcome, null, error, queueMs, runMs, worker);
    }

    /** The same result saying what the worker could not do as asked. */
    public JobResult withWarnings(java.util.List<String> more) {
        return new JobResult(id, model, task, outcome, output, error, queueMs, runMs, worker, more);
    }

    public static JobResult failed(Job job, Outcome outcome, JobError error, Long queueMs, long runMs, String worker) {
        return failed(job.id(), job.model(), job.task(), outcome, error, queueMs, runMs, worker);
    }

    /** The output as the kind the caller asked for. */
    public <O extends TaskOutput> O output(Class<O> type) {
        if (!type.isInstance(output)) {
            throw new IllegalStateException("job " + id + " produced " + (output == null ? "nothing" : output.kind().wire())
                    + ", not " + type.getSimpleName());
        }
        return type.cast(output);
    }

    /** A chat job's answer. */
    public dev.axfleet.broker.chat.ChatOutput chat() {
        return output(dev.axfleet.broker.chat.ChatOutput.class);
    }
}
