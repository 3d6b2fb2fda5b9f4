package dev.axfleet.worker.runtime;

import dev.axfleet.broker.Task;
import dev.axfleet.broker.chat.ChatParams;
import dev.axfleet.worker.Runner;
import dev.axfleet.worker.RunnerFactory;
import java.util.List;
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

    @Override
    default List<Runner> runners(RunnerFactory factory) {
        return List.of(factory.chat(this));
    }

    /** Whether the model can be asked to think first ({@link ChatParams#think()}); the legacy runtime cannot. */
    default boolean thinks() {
        return false;
    }

    /** Asks for one answer, passing text to {@code generation} as it comes. */
    ChatOutcome chat(ChatParams params, Generation generation) throws EngineException;
}
