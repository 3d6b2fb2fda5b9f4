package dev.axfleet.broker;

/**
 * The one final answer to a job.
 *
 * @param queueMs how long the job waited between its creation and the start of its run; null when the
 *                job carried no creation time
 * @param runMs   how long the run took
 * @param firstTokenMs from the start of the run to the runtime's first text (the prompt's prefill), or null
 * @param droppedMessages the oldest turns left out so the conversation fit the model's context (0: none)
 * @param output  what an image or interrogation job produced; null for chat and for failures
 * @param thinking the model's thinking before its answer, when the job asked for it; null otherwise
 * @param warnings what the worker could not do as asked or could not vouch for (an answer the runtime cut short, a key
 *                 the runtime ignores), in words; empty when none
 */
public record JobResult(
        String id,
        String model,
        Outcome outcome,
        String text,
        FinishReason finishReason,
        Usage usage,
        Long queueMs,
        long runMs,
        Long firstTokenMs,
        JobError error,
        String worker,
        int droppedMessages,
        TaskOutput output,
        String thinking,
        java.util.List<String> warnings) implements Reply {

    public JobResult {
        warnings = warnings == null ? java.util.List.of() : java.util.List.copyOf(warnings);
    }

    public static JobResult done(Job job, String text, FinishReason finish, Usage usage, Long queueMs, long runMs,
                                 Long firstTokenMs, String worker) {
        return new JobResult(job.id(), job.model(), Outcome.DONE, text, finish, usage, queueMs, runMs, firstTokenMs, null, worker, 0, null, null, null);
    }

    /** A finished image or interrogation job. */
    public static JobResult produced(Job job, TaskOutput output, Long queueMs, long runMs, String worker) {
        return new JobResult(job.id(), job.model(), Outcome.DONE, null, null, null, queueMs, runMs, null, null, worker, 0, output, null, null);
    }

    public static JobResult failed(String id, String model, Outcome outcome, JobError error, Long queueMs, long runMs, String worker) {
        return new JobResult(id, model, outcome, null, null, null, queueMs, runMs, null, error, worker, 0, null, null, null);
    }

    public JobResult withDroppedMessages(int dropped) {
        return new JobResult(id, model, outcome, text, finishReason, usage, queueMs, runMs, firstTokenMs, error, worker, dropped, output, thinking, warnings);
    }

    /** The same result with the model's thinking (null: none). */
    public JobResult withThinking(String thinkingText) {
        return new JobResult(id, model, outcome, text, finishReason, usage, queueMs, runMs, firstTokenMs, error, worker, droppedMessages, output,
                thinkingText, warnings);
    }

    /** The same result with these warnings (null or empty: none). */
    public JobResult withWarnings(java.util.List<String> said) {
        return new JobResult(id, model, outcome, text, finishReason, usage, queueMs, runMs, firstTokenMs, error, worker, droppedMessages, output,
                thinking, said);
    }
}
