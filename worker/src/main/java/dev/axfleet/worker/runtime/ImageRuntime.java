package dev.axfleet.worker.runtime;

import dev.axfleet.broker.image.ImageParams;
import dev.axfleet.broker.image.Images;
import dev.axfleet.broker.interrogate.InterrogateParams;
import dev.axfleet.broker.interrogate.Interrogation;
import dev.axfleet.worker.Runner;
import dev.axfleet.worker.RunnerFactory;
import java.util.List;

/** An image model kept resident on the card: generation, and interrogation when its CLIP models are installed. */
public interface ImageRuntime extends ModelRuntime {

    /** Told after each denoising step; asked before each whether to stop. */
    interface Progress {
        void step(int done, int total);

        boolean cancelled();
    }

    /** Generation and interrogation; the job loop takes only the tasks {@link #tasks()} lists (CLIP may be missing). */
    @Override
    default List<Runner> runners(RunnerFactory factory) {
        return List.of(factory.image(this), factory.interrogate(this));
    }

    /**
     * Generates the images {@code params} asks for, at its size.
     *
     * @throws EngineException on a card failure, or {@link EngineException.Kind#REJECTED} for an input
     *                         image that cannot be read
     * @throws java.util.concurrent.CancellationException when {@code progress} said stop between steps
     */
    Images generate(ImageParams params, Progress progress) throws EngineException;

    /** Tags an image, or picks each category's best term. */
    Interrogation interrogate(InterrogateParams params) throws EngineException;
}
