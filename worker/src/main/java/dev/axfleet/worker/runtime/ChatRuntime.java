package dev.axfleet.worker.runtime;

import dev.axfleet.broker.ChatParams;
import java.time.Duration;

/**
 * A manufacturer LLM runtime kept resident for one model: its processes, their readiness, and the way to
 * ask it for an answer. One answer at a time; the job loop serialises calls.
 */
public interface ChatRuntime extends AutoCloseable {

    /** Its name on the wire: {@code axllm-serve} or {@code main-api}. */
    String kind();

    /**
     * Starts the runtime's processes (stopping strays left by an earlier worker first) and waits until it
     * answers, for at most {@code timeout}.
     *
     * @throws RuntimeStartException when it exits, never becomes ready, or cannot be run at all
     */
    void start(Duration timeout) throws RuntimeStartException;

    /** A probe with no side effects: processes alive and answering. */
    boolean healthy();

    /** Stops the processes gracefully, then starts them again. */
    void restart(String why, Duration timeout) throws RuntimeStartException;

    /** Asks for one answer, passing text to {@code generation} as it comes. */
    ChatOutcome chat(ChatParams params, Generation generation) throws EngineException;

    /** True when the runtime announced itself as axfleet's emulator rather than the card's software. */
    boolean emulated();

    /** The runtime's live processes, so the monitor can tell them from strays on the card. */
    java.util.List<Long> pids();

    /** The model's context length as the runtime logged it, or 0 before it said. */
    int contextTokens();

    /** Stops the processes gracefully. */
    @Override
    void close();
}
