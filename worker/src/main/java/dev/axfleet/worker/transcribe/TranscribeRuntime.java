package dev.axfleet.worker.transcribe;

import dev.axfleet.broker.Task;
import dev.axfleet.worker.Runner;
import dev.axfleet.worker.RunnerFactory;
import dev.axfleet.worker.runtime.EngineException;
import dev.axfleet.worker.runtime.ModelRuntime;
import java.util.List;
import java.util.Set;

/** A speech-recognition model kept resident on the card. */
public interface TranscribeRuntime extends ModelRuntime {

    @Override
    default Set<Task> tasks() {
        return Set.of(Task.TRANSCRIBE);
    }

    @Override
    default List<Runner> runners(RunnerFactory factory) {
        return List.of(factory.transcribe(this));
    }

    /** The rate the model hears at; the worker sends audio resampled to it. */
    int sampleRate();

    /** The longest piece of audio one request may carry: what the model reads at once. */
    double windowSeconds();

    /** What the runtime heard, and the language it was asked for (its default when none was named). */
    record Heard(String text, String language) {
    }

    /**
     * The text in {@code wav} (mono 16-bit PCM at {@link #sampleRate()}, at most {@link #windowSeconds()} long).
     *
     * @param language the job's language, or null for the runtime's default
     */
    Heard transcribe(byte[] wav, String language) throws EngineException;
}
