package dev.axfleet.worker.image;

import dev.axfleet.broker.Job;
import dev.axfleet.broker.Kind;
import dev.axfleet.broker.TaskOutput;
import dev.axfleet.broker.image.ImageParams;
import dev.axfleet.worker.RunContext;
import dev.axfleet.worker.Runner;
import dev.axfleet.worker.runtime.EngineException;
import dev.axfleet.worker.runtime.ImageRuntime;

/** A txt2img or img2img job: its steps reported as they run, stopped between steps when cancelled. */
public final class ImageRunner implements Runner {
    private final ImageRuntime images;

    public ImageRunner(ImageRuntime images) {
        this.images = images;
    }

    @Override
    public Kind kind() {
        return Kind.IMAGE;
    }

    @Override
    public TaskOutput run(Job job, RunContext context) throws EngineException {
        return images.generate((ImageParams) job.params(), new ImageRuntime.Progress() {
            @Override
            public void step(int done, int total) {
                context.progress(done, total);
            }

            @Override
            public boolean cancelled() {
                return context.cancelled();
            }
        });
    }
}
