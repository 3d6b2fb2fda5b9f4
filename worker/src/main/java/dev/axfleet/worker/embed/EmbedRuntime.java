package dev.axfleet.worker.embed;

import dev.axfleet.broker.Task;
import dev.axfleet.worker.Runner;
import dev.axfleet.worker.RunnerFactory;
import dev.axfleet.worker.runtime.EngineException;
import dev.axfleet.worker.runtime.ModelRuntime;
import java.util.List;
import java.util.Set;

/** An embedding model kept resident on the card. */
public interface EmbedRuntime extends ModelRuntime {

    @Override
    default Set<Task> tasks() {
        return Set.of(Task.EMBED);
    }

    @Override
    default List<Runner> runners(RunnerFactory factory) {
        return List.of(factory.embed(this));
    }

    /**
     * One vector per input, in order, as the runtime pools them.
     *
     * @param promptTokens the runtime's own count of the inputs' tokens, or 0 when it reports none
     */
    record Vectors(List<float[]> vectors, int promptTokens) {
    }

    Vectors embed(List<String> inputs) throws EngineException;
}
