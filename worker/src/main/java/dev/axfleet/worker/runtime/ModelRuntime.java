package dev.axfleet.worker.runtime;

import dev.axfleet.broker.Capability;
import dev.axfleet.broker.Task;
import dev.axfleet.worker.Runner;
import dev.axfleet.worker.RunnerFactory;
import java.time.Duration;
import java.util.List;
import java.util.Set;

/**
 * A model kept resident on the card for one worker: started once, probed, restarted when it fails, stopped
 * politely. The job loop runs one job at a time on it through the runner of the job's kind; {@link ChatRuntime},
 * {@link ImageRuntime} and {@code EmbedRuntime} say what each kind asks of a runtime.
 */
public interface ModelRuntime extends AutoCloseable {

    /** Its name on the wire: {@code axllm-serve}, {@code main-api} or {@code sd15-lcm}. */
    String kind();

    /** The tasks its jobs may ask for. */
    Set<Task> tasks();

    /** Why a task of a kind it serves is not taken here (a part of the model not installed), or null. */
    default String missing(Task task) {
        return null;
    }

    /** The runners of the kinds of work it does, made by {@code factory} (one call per kind it serves). */
    List<Runner> runners(RunnerFactory factory);

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

    /** What its model takes beyond plain text (images, tools), announced in the worker's state. */
    default Set<Capability> capabilities() {
        return Set.of();
    }

    /** A speech model's own voices, announced so OpenAI's names can be mapped onto them; empty for other kinds. */
    default List<String> voices() {
        return List.of();
    }

    /** The model's context length in tokens, or 0 when it has none or has not said yet. */
    default int contextTokens() {
        return 0;
    }

    /** Stops gracefully and releases the card. */
    @Override
    void close();
}
