package dev.axfleet.worker.runtime;

import dev.axfleet.broker.ImageParams;
import dev.axfleet.broker.InterrogateParams;
import dev.axfleet.broker.TaskOutput;

/** An image model kept resident on the card: generation, and interrogation when its CLIP models are installed. */
public interface ImageRuntime extends ModelRuntime {

    /** Told after each denoising step; asked before each whether to stop. */
    interface Progress {
        void step(int done, int total);

        boolean cancelled();
    }

    /**
     * Generates the images {@code params} asks for, at its size.
     *
     * @throws EngineException on a card failure, or {@link EngineException.Kind#REJECTED} for an input
     *                         image that cannot be read
     * @throws java.util.concurrent.CancellationException when {@code progress} said stop between steps
     */
    TaskOutput.Images generate(ImageParams params, Progress progress) throws EngineException;

    /** Tags an image, or picks each category's best term. */
    TaskOutput.Interrogation interrogate(InterrogateParams params) throws EngineException;
}
