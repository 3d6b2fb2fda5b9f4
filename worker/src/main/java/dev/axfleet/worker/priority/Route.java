package dev.axfleet.worker.priority;

import dev.axfleet.broker.Job;
import java.time.Instant;
import java.util.List;

/**
 * Where a job waiting in a worker's intake goes next, decided without a broker or a clock of its own (unit-tested):
 * to this worker's own run, to a free worker of the model, an answer before it runs, or nowhere yet.
 *
 * <ul>
 * <li>Cancelled or expired while it waited: answered so at once.</li>
 * <li>This worker is free, may run (its card is not held back) and has the model on its card — or nobody else has: it
 *     runs here, unless even its shortest measured run would end past its deadline ("would not finish in time").</li>
 * <li>Else a worker of the model that has it loaded and is free takes it: a job never waits behind a busy (or slow)
 *     worker, or one without the model, while another could start it.</li>
 * <li>Else it waits here, unless the wait ahead of it here and its shortest run would end past its deadline.</li>
 * </ul>
 */
final class Route {
    enum Kind { RUN_HERE, PASS, WAIT, CANCELLED, EXPIRED, WOULD_NOT_FINISH }

    record Decision(Kind kind, String to, String why) {
        static Decision of(Kind kind, String why) {
            return new Decision(kind, null, why);
        }
    }

    /**
     * What this worker knows when it decides.
     *
     * @param free              its job loop runs nothing and has nothing handed to it waiting
     * @param mayRun            nothing holds it back (its card is neither hot, lost nor being reset; it is not stopping)
     * @param residentHere      its model is loaded on its card
     * @param residentElsewhere another worker of the model has it loaded and may run it
     * @param freeMates         the workers of the model that have it loaded and are free, best first
     */
    record View(boolean free, boolean mayRun, boolean residentHere, boolean residentElsewhere, List<String> freeMates) {
    }

    private Route() {
    }

    /**
     * @param job       the job, or null when it cannot be read (it runs here, where its error is answered)
     * @param cancelled its caller cancelled it
     * @param aheadMs   how long this worker is expected to be busy before it could start this job (measured pace)
     * @param leastMs   the shortest measured run of a job of its task here (0: never run here)
     */
    static Decision decide(Job job, boolean cancelled, Instant now, View v, long aheadMs, long leastMs) {
        if (job != null && cancelled) {
            return Decision.of(Kind.CANCELLED, "cancelled while it waited for a worker");
        }
        if (job != null && job.isExpired(now)) {
            return Decision.of(Kind.EXPIRED, "expired at " + job.expiresAt() + " while it waited for a worker");
        }
        boolean mine = v.mayRun() && (v.residentHere() || !v.residentElsewhere());
        if (mine && v.free()) {
            if (lateBy(job, now, 0, leastMs) > 0) {
                return Decision.of(Kind.WOULD_NOT_FINISH, "its shortest run here (" + leastMs + " ms) ends after its deadline "
                        + job.expiresAt());
            }
            return Decision.of(Kind.RUN_HERE, "this worker is free");
        }
        if (!v.freeMates().isEmpty()) {
            return new Decision(Kind.PASS, v.freeMates().get(0), !v.mayRun() ? "this worker is held back"
                    : !mine ? "this worker does not have the model loaded" : "this worker is busy");
        }
        if (mine && lateBy(job, now, aheadMs, leastMs) > 0) {
            return Decision.of(Kind.WOULD_NOT_FINISH, "it would start in about " + aheadMs + " ms, after what this worker runs first, and its "
                    + "shortest run (" + leastMs + " ms) would end after its deadline " + job.expiresAt());
        }
        return Decision.of(Kind.WAIT, mine ? "this worker is busy" : "waiting for a worker that has the model loaded");
    }

    /** How far past its deadline a job would end if it started after {@code aheadMs} and took {@code leastMs}; ≤ 0 if in time. */
    private static long lateBy(Job job, Instant now, long aheadMs, long leastMs) {
        if (job == null || job.expiresAt() == null || aheadMs + leastMs == 0) {
            return 0;
        }
        return now.toEpochMilli() + aheadMs + leastMs - job.expiresAt().toEpochMilli();
    }
}
