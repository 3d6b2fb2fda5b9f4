package dev.axfleet.broker;

/**
 * Token counts of one job.
 *
 * @param estimated true when the runtime reported no counts and the worker estimated them
 */
public record Usage(int promptTokens, int completionTokens, boolean estimated) {
    public int totalTokens() {
        return promptTokens + completionTokens;
    }
}
