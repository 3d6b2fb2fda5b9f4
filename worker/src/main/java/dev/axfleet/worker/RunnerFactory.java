package dev.axfleet.worker;

import dev.axfleet.worker.embed.EmbedRuntime;
import dev.axfleet.worker.runtime.ChatRuntime;
import dev.axfleet.worker.runtime.ImageRuntime;
import dev.axfleet.worker.speech.SpeechRuntime;
import dev.axfleet.worker.transcribe.TranscribeRuntime;

/**
 * Makes the runner of each kind of work for a runtime that does it. A runtime names the kinds it serves by calling
 * the methods it can take ({@link dev.axfleet.worker.runtime.ModelRuntime#runners}); adding a kind adds a method
 * here, and the compiler lists the factory to fill in.
 */
public interface RunnerFactory {
    Runner chat(ChatRuntime runtime);

    Runner image(ImageRuntime runtime);

    Runner interrogate(ImageRuntime runtime);

    Runner embed(EmbedRuntime runtime);

    Runner transcribe(TranscribeRuntime runtime);

    Runner speech(SpeechRuntime runtime);
}
