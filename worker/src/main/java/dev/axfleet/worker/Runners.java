package dev.axfleet.worker;

import dev.axfleet.worker.chat.ChatRunner;
import dev.axfleet.worker.embed.EmbedRunner;
import dev.axfleet.worker.embed.EmbedRuntime;
import dev.axfleet.worker.image.ImageRunner;
import dev.axfleet.worker.image.InterrogateRunner;
import dev.axfleet.worker.runtime.ChatRuntime;
import dev.axfleet.worker.runtime.ImageRuntime;
import dev.axfleet.worker.speech.SpeechRunner;
import dev.axfleet.worker.speech.SpeechRuntime;
import dev.axfleet.worker.transcribe.TranscribeRunner;
import dev.axfleet.worker.transcribe.TranscribeRuntime;

/** The runners of this worker, with the settings each kind reads from the worker's configuration. */
final class Runners implements RunnerFactory {
    private final WorkerConfig config;

    Runners(WorkerConfig config) {
        this.config = config;
    }

    @Override
    public Runner chat(ChatRuntime runtime) {
        return new ChatRunner(runtime, config.defaultMaxTokens(), config.contextOverflow());
    }

    @Override
    public Runner image(ImageRuntime runtime) {
        return new ImageRunner(runtime);
    }

    @Override
    public Runner interrogate(ImageRuntime runtime) {
        return new InterrogateRunner(runtime);
    }

    @Override
    public Runner embed(EmbedRuntime runtime) {
        return new EmbedRunner(runtime);
    }

    @Override
    public Runner transcribe(TranscribeRuntime runtime) {
        return new TranscribeRunner(runtime);
    }

    @Override
    public Runner speech(SpeechRuntime runtime) {
        return new SpeechRunner(runtime);
    }
}
