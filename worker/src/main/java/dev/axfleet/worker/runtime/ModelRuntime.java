package dev.axfleet.worker.runtime;

import dev.axfleet.broker.Task;
import java.time.Duration;
import java.util.List;
import java.util.Set;

/**
 * A model kept resident on the card for one worker: started once, probed, restarted when it fails, stopped
 * politely. The job loop runs one job at a time on it; {@link ChatRuntime} and {@link ImageRuntime} say how.
 */
public interface ModelRuntime extends AutoCloseable {

    /** Its name on the wire: {@code axllm-serve}, {@code main-api} or {@code sd15-lcm}. */
    String kind();

    /** The tasks its jobs may ask for. */
    Set<Task> tasks();

    /**
     * Loads the model (stopping strays left by an earlier worker first) and waits until it answers, for at most
     * {@code timeout}.
     *
     * @throws RuntimeStartException when it exits, never becomes ready, or cannot be run at all
     */
    void start(Duration timeout) throws RuntimeStartException;

    /** A probe with no side effects: loaded and answering. */
    boolean healthy();

    /** Stops gracefully, then starts again. */
    void restart(String why, Duration timeout) throws RuntimeStartException;

    /** True when the runtime announced itself as axfleet's emulator rather than the card's software. */
    boolean emulated();

    /** The live processes holding the card for this model, so the monitor can tell them from strays. */
    List<Long> pids();

    /** The model's context length in tokens, or 0 when it has none or has not said yet. */
    default int contextTokens() {
        return 0;
    }

    /** Stops gracefully and releases the card. */
    @Override
    void close();
}
