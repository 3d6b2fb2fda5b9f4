package dev.axfleet.worker.image;

import dev.axfleet.broker.Job;
import dev.axfleet.broker.Kind;
import dev.axfleet.broker.TaskOutput;
import dev.axfleet.broker.interrogate.InterrogateParams;
import dev.axfleet.worker.RunContext;
import dev.axfleet.worker.Runner;
import dev.axfleet.worker.runtime.EngineException;
import dev.axfleet.worker.runtime.ImageRuntime;

/** An interrogation job: an image's tags, or each category's best term, from the image model's CLIP. */
public final class InterrogateRunner implements Runner {
    private final ImageRuntime images;

    public InterrogateRunner(ImageRuntime images) {
        this.images = images;
    }

    @Override
    public Kind kind() {
        return Kind.INTERROGATION;
    }

    @Override
    public TaskOutput run(Job job, RunContext context) throws EngineException {
        return images.interrogate((InterrogateParams) job.params());
    }
}
