package dev.axfleet.worker.speech;

import dev.axfleet.broker.Task;
import dev.axfleet.worker.Runner;
import dev.axfleet.worker.RunnerFactory;
import dev.axfleet.worker.runtime.EngineException;
import dev.axfleet.worker.runtime.ModelRuntime;
import java.util.List;
import java.util.Set;
import java.util.function.BooleanSupplier;

/** A speech-synthesis model kept resident on the card. */
public interface SpeechRuntime extends ModelRuntime {

    @Override
    default Set<Task> tasks() {
        return Set.of(Task.SPEAK);
    }

    @Override
    default List<Runner> runners(RunnerFactory factory) {
        return List.of(factory.speech(this));
    }

    /** The model's own voices, first the one a job without a voice gets. */
    @Override
    List<String> voices();

    /** The rate of the audio it gives. */
    int sampleRate();

    /** Where the pieces of the audio go, in order, as the runtime makes them. */
    interface Pieces {
        /** 16-bit little-endian mono samples at {@link #sampleRate()}; {@code last} on the final piece (which may be empty). */
        void piece(byte[] pcm16, boolean last);
    }

    /**
     * Speaks {@code input} in {@code voice} (one of {@link #voices()}) at {@code speed} (1 the model's own pace), passing
     * each piece to {@code pieces} as it comes; returns early when {@code cancelled} says so.
     */
    void speak(String input, String voice, double speed, Pieces pieces, BooleanSupplier cancelled) throws EngineException;
}
