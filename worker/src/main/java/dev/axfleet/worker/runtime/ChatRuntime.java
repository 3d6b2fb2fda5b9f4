package dev.axfleet.worker.runtime;

import dev.axfleet.broker.ChatParams;
import dev.axfleet.broker.Task;
import java.util.Set;

/**
 * A manufacturer LLM runtime kept resident for one model: its processes, their readiness, and the way to
 * ask it for an answer. One answer at a time; the job loop serialises calls.
 */
public interface ChatRuntime extends ModelRuntime {

    @Override
    default Set<Task> tasks() {
        return Set.of(Task.CHAT);
    }

    /** Whether the model can be asked to think first ({@link ChatParams#think()}); the legacy runtime cannot. */
    default boolean thinks() {
        return false;
    }

    /** Asks for one answer, passing text to {@code generation} as it comes. */
    ChatOutcome chat(ChatParams params, Generation generation) throws EngineException;
}
