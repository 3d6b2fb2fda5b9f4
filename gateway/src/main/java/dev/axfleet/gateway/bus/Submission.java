package dev.axfleet.gateway.bus;

import dev.axfleet.broker.JobResult;
import dev.axfleet.broker.JobStatus;
import dev.axfleet.broker.Reply;
import dev.axfleet.broker.Task;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** One job this gateway published, and the replies arriving for it. */
public final class Submission {
    /** What a submission asks of the table it is in; the table is the only one that publishes for it. */
    interface Control {
        /** Asks the model's workers to drop the job, queued or running, and forgets it. */
        void cancel(Submission s);

        /** Asks the model's workers to stop the job; its caller still waits for the result saying it was cancelled. */
        void interrupt(Submission s);

        /** The job's result arrived: it waits no more. */
        void finished(Submission s);
    }

    private final String id;
    private final String model;
    private final Task task;
    private final Control control;
    private final BlockingQueue<Reply> replies = new LinkedBlockingQueue<>();
    private volatile JobStatus progress;

    Submission(String id, String model, Task task, Control control) {
        this.id = id;
        this.model = model;
        this.task = task;
        this.control = control;
    }

    public String id() {
        return id;
    }

    public String model() {
        return model;
    }

    public Task task() {
        return task;
    }

    /** A reply for this job, arriving from the bus (or made here when the broker is out of reach). */
    void deliver(Reply r) {
        replies.add(r);
    }

    /** The next delta or the result, or null when none came within {@code wait}. */
    public Reply next(Duration wait) throws InterruptedException {
        Reply r = replies.poll(wait.toNanos(), TimeUnit.NANOSECONDS);
        if (r instanceof JobResult) {
            control.finished(this);
        }
        return r;
    }

    /** The latest status of a job with steps (an image's, for AUTOMATIC1111's /progress), or null. */
    public JobStatus progress() {
        return progress;
    }

    void progress(JobStatus s) {
        progress = s;
    }

    /** Someone else stops the job (AUTOMATIC1111's /interrupt): the caller gets the worker's "cancelled" result. */
    public void interrupt() {
        control.interrupt(this);
    }

    /** The caller gave up (timeout, disconnect): the workers drop the job. */
    public void cancel() {
        control.cancel(this);
    }
}
