package dev.axfleet.gateway;

import dev.axfleet.broker.image.ImageParams;
import dev.axfleet.broker.JobResult;
import dev.axfleet.broker.TaskParams;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import spark.Request;

/**
 * Retries that do not run twice. Clients retry on their own (the kiosk three times after its 30 s timeout, the
 * OpenAI SDKs on timeouts and 5xx): a request identical to one still queued or running (same route, job,
 * model and credentials, or the same {@code Idempotency-Key}) waits for that job instead of queueing another,
 * and a finished picture answers identical requests for {@code gateway.image_reuse} when it can be asked for
 * again (a fixed seed, or an Idempotency-Key; a seed of -1 asks for a new picture each time). A job whose
 * every request has gone (their clients closed the connection) is dropped unless an identical one arrives
 * within {@link #ABANDON_GRACE}; one that finishes with nobody waiting answers an identical request arriving
 * within the same grace (the retry was on its way).
 */
final class SameRequests {
    /**
     * How long a job nobody waits for any more, or its answer, is kept for a retry: longer than the kiosk's half
     * second between a timeout and its retry, and the OpenAI SDKs' first back-offs, plus a new connection.
     */
    static final Duration ABANDON_GRACE = Duration.ofSeconds(3);

    /** A job one or more identical requests wait for. */
    static final class Shared {
        final CompletableFuture<JobResult> result = new CompletableFuture<>();
        /** The job's id once it is on the bus, for the request log of every request waiting for it. */
        volatile String jobId = "-";
        private int waiting = 1;
        private long emptySince;
        private boolean dropped;

        /** One more request waits for this job; false when it is being dropped (start another). */
        private synchronized boolean join() {
            if (dropped) {
                return false;
            }
            waiting++;
            return true;
        }

        private synchronized void leave() {
            if (--waiting == 0) {
                emptySince = System.nanoTime();
            }
        }

        private synchronized boolean unanswered() {
            return waiting == 0;
        }

        /** True, for good, once no request has waited for {@link #ABANDON_GRACE}: the job may be dropped. */
        synchronized boolean abandoned() {
            if (!dropped && waiting == 0 && System.nanoTime() - emptySince >= ABANDON_GRACE.toNanos()) {
                dropped = true;
            }
            return dropped;
        }
    }

    /** One request waiting for a shared job, and whether its client still waits for the answer. */
    static final class Waiter {
        private final Shared job;
        private final Caller caller;
        private boolean left;

        Waiter(Shared job, Caller caller) {
            this.job = job;
            this.caller = caller;
        }

        /** Whether this request's client has gone; the job then has one waiter fewer. Only the request's own thread asks. */
        boolean gone() {
            if (!left && caller.gone()) {
                leave();
            }
            return left;
        }

        /** This request no longer waits (answered, timed out or gone). */
        void leave() {
            if (!left) {
                left = true;
                job.leave();
            }
        }
    }

    /** A finished result and until when it answers; {@code once}: only the first identical request gets it. */
    private record Kept(JobResult result, long untilNanos, boolean once) {
    }

    private final Map<String, Shared> running = new ConcurrentHashMap<>();
    private final Map<String, Kept> kept = new ConcurrentHashMap<>();
    private final Duration window;

    SameRequests(Duration window) {
        this.window = window;
    }

    /** What makes two requests the same; {@code part} tells apart the jobs of one request (a batch of pictures). */
    static String key(Request req, String model, TaskParams params, int part) {
        String idempotency = req.headers("Idempotency-Key");
        String what = idempotency != null ? "key:" + idempotency + "#" + part : "job:" + params;
        return sha256(String.join("\u0000", req.requestMethod(), req.pathInfo(), model, what,
                String.valueOf(req.headers("Authorization")), String.valueOf(req.headers("X-API-Key"))));
    }

    /** Whether a finished result of this request may answer it again. */
    static boolean reusable(Request req, TaskParams params) {
        return req.headers("Idempotency-Key") != null || params instanceof ImageParams p && p.seed() != null && p.seed() >= 0;
    }

    /** A finished result still in its window, or null. */
    JobResult kept(String key) {
        long now = System.nanoTime();
        kept.values().removeIf(k -> now - k.untilNanos() > 0);
        Kept k = kept.get(key);
        if (k == null || k.once() && !kept.remove(key, k)) {
            return null;
        }
        return k.result();
    }

    /**
     * Keeps a finished result for identical requests: for {@code gateway.image_reuse} when it may be asked for again
     * ({@link #reusable}), else for {@link #ABANDON_GRACE} and the first identical request only when no request was
     * waiting to take it (a retry on its way).
     */
    void keep(String key, JobResult result, boolean reusable, Shared job) {
        if (reusable) {
            kept.put(key, new Kept(result, System.nanoTime() + window.toNanos(), false));
        } else if (job.unanswered()) {
            kept.put(key, new Kept(result, System.nanoTime() + ABANDON_GRACE.toNanos(), true));
        }
    }

    /** The job an identical request is already waiting for (now one more caller waits), or null: start one. */
    Shared attach(String key, Shared mine) {
        while (true) {
            Shared s = running.putIfAbsent(key, mine);
            if (s == null) {
                return null;
            }
            if (s.join()) {
                return s;
            }
            running.remove(key, s);
        }
    }

    void done(String key, Shared mine) {
        running.remove(key, mine);
    }

    private static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
