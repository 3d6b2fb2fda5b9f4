package dev.axfleet.gateway.page;

import dev.axfleet.broker.JobResult;
import dev.axfleet.broker.JobState;
import dev.axfleet.broker.JobStatus;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The jobs running now and the last ones finished, whoever sent them, as the bus shows them (the gateway's bus watch
 * feeds it every job's status and every result it can read): for the page, never for accounting. A job is known by
 * model and id (devices restart their counters at boot). Bounded: {@link #RUNNING_MAX} running, {@link #KEPT} finished.
 */
public final class JobLog {
    static final int KEPT = 20;
    static final int RUNNING_MAX = 256;

    /** A job seen running: since when, on which worker, and how far an image job got. */
    public record Running(String id, String model, String worker, JobState state, Instant since, Integer step, Integer steps) {
    }

    /**
     * A finished job.
     *
     * @param waitMs how long it waited before a worker ran it; null when its result was not readable here (a device's
     *               own reply topic) and it carried no creation time
     * @param runMs  how long it ran: from its result, else from its status times; null when neither says
     */
    public record Finished(String id, String model, String worker, String outcome, Long waitMs, Long runMs, Instant at) {
    }

    private final Clock clock;
    private final Map<String, Running> running = new LinkedHashMap<>();
    /** Newest first. */
    private final List<Finished> finished = new ArrayList<>();
    /** Results that arrived before their final status (the worker publishes the result first). */
    private final Map<String, JobResult> results = new LinkedHashMap<>();

    public JobLog(Clock clock) {
        this.clock = clock;
    }

    private static String key(String model, String id) {
        return model + "\u0000" + id;
    }

    public synchronized void status(JobStatus s) {
        String key = key(s.model(), s.id());
        Instant at = s.at() != null ? s.at() : clock.instant();
        if (s.state() == JobState.RUNNING || s.state() == JobState.STREAMING) {
            Running before = running.get(key);
            running.put(key, new Running(s.id(), s.model(), s.worker(), s.state(), before != null ? before.since() : at, s.step(), s.steps()));
            while (running.size() > RUNNING_MAX) {
                running.remove(running.keySet().iterator().next());
            }
            return;
        }
        Running was = running.remove(key);
        JobResult r = results.remove(key);
        Long runMs = r != null ? Long.valueOf(r.runMs()) : was != null ? Long.valueOf(at.toEpochMilli() - was.since().toEpochMilli()) : null;
        finish(new Finished(s.id(), s.model(), s.worker(), s.state().wire(), r != null ? r.queueMs() : null, runMs, at));
    }

    /** A result, read on the reply or default result topics: its wait and run times join its final status. */
    public synchronized void result(JobResult r) {
        String key = key(r.model(), r.id());
        for (int i = 0; i < finished.size(); i++) {
            Finished f = finished.get(i);
            if (f.model().equals(r.model()) && f.id().equals(r.id()) && f.waitMs() == null) {
                // The status came first after all: put the times in.
                finished.set(i, new Finished(f.id(), f.model(), f.worker(), f.outcome(), r.queueMs(), r.runMs(), f.at()));
                return;
            }
        }
        results.put(key, r);
        while (results.size() > RUNNING_MAX) {
            results.remove(results.keySet().iterator().next());
        }
    }

    private void finish(Finished f) {
        finished.add(0, f);
        while (finished.size() > KEPT) {
            finished.remove(finished.size() - 1);
        }
    }

    public synchronized List<Running> running() {
        return new ArrayList<>(running.values());
    }

    /** The last jobs finished, newest first. */
    public synchronized List<Finished> finished() {
        return new ArrayList<>(finished);
    }
}
