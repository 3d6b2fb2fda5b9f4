package dev.axfleet.gateway;

import dev.axfleet.broker.JobResult;
import dev.axfleet.broker.JobStatus;
import dev.axfleet.broker.Outcome;
import dev.axfleet.broker.JobError;
import dev.axfleet.broker.Reply;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** One job this gateway published, and the replies arriving for it. */
public final class Submission {
    /** Put in the queue when the broker would not take the job. */
    static final JobResult UNDELIVERED = JobResult.failed("-", "-", Outcome.ERROR,
            JobError.of("broker_unavailable", "the broker did not accept the job"), null, 0, null);
    /** Put in the queue when the broker went away while the job was waiting; the job is cancelled when it is back. */
    static final JobResult BROKER_LOST = JobResult.failed("-", "-", Outcome.ERROR,
            JobError.of("broker_unavailable", "the connection to the MQTT broker was lost while the job waited; it was cancelled"),
            null, 0, null);

    /** Put in the queue when the broker kept saying no worker subscribes to the model's jobs. */
    static final JobResult NO_WORKER = JobResult.failed("-", "-", Outcome.ERROR,
            JobError.of("no_worker", "no worker takes jobs for this model right now (none is subscribed, e.g. just after a broker restart)"),
            null, 0, null);
    /** Put in the queue when the gateway stops before the job is answered; the job is cancelled. */
    static final JobResult STOPPING = JobResult.failed("-", "-", Outcome.ERROR,
            JobError.of("gateway_stopping", "the gateway stopped before the job was answered; it was cancelled"), null, 0, null);

    private final String id;
    private final String model;
    private final BlockingQueue<Reply> replies = new LinkedBlockingQueue<>();
    private final JobClient client;

    Submission(String id, String model, JobClient client) {
        this.id = id;
        this.model = model;
        this.client = client;
    }

    public String id() {
        return id;
    }

    public String model() {
        return model;
    }

    /** A reply for this job, arriving from the bus (or made here when the broker is out of reach). */
    void deliver(Reply r) {
        replies.add(r);
    }

    /** The next delta or the result, or null when none came within {@code wait}. */
    public Reply next(Duration wait) throws InterruptedException {
        Reply r = replies.poll(wait.toNanos(), TimeUnit.NANOSECONDS);
        if (r instanceof JobResult) {
            client.finished(this);
        }
        return r;
    }

    private volatile JobStatus progress;
    private volatile boolean watchesProgress;

    void watchProgress() {
        watchesProgress = true;
    }

    boolean watchesProgress() {
        return watchesProgress;
    }

    /** The latest status of an image job with steps (for AUTOMATIC1111's /progress), or null. */
    public JobStatus progress() {
        return progress;
    }

    void progress(JobStatus s) {
        progress = s;
    }

    /** Someone else stops the job (AUTOMATIC1111's /interrupt): the caller gets the worker's "cancelled" result. */
    public void interrupt() {
        client.interrupt(this);
    }

    /** The caller gave up (timeout, disconnect): the workers drop the job. */
    public void cancel() {
        client.cancel(this);
    }
}
