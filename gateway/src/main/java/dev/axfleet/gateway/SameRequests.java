package dev.axfleet.gateway;

import dev.axfleet.broker.ImageParams;
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
import java.util.concurrent.atomic.AtomicInteger;
import spark.Request;

/**
 * Retries that do not run twice. Clients retry on their own (the kiosk three times after its 30 s timeout, the
 * OpenAI SDKs on timeouts and 5xx): a request identical to one still queued or running (same route, job,
 * model and credentials, or the same {@code Idempotency-Key}) waits for that job instead of queueing another,
 * and a finished picture answers identical requests for {@code gateway.image_reuse} when it can be asked for
 * again (a fixed seed, or an Idempotency-Key; a seed of -1 asks for a new picture each time).
 */
final class SameRequests {
    /** A job one or more identical requests wait for. */
    static final class Shared {
        final CompletableFuture<JobResult> result = new CompletableFuture<>();
        final AtomicInteger callers = new AtomicInteger(1);
    }

    private record Kept(JobResult result, long atNanos) {
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
        kept.values().removeIf(k -> now - k.atNanos() > window.toNanos());
        Kept k = kept.get(key);
        return k == null ? null : k.result();
    }

    void keep(String key, JobResult result) {
        kept.put(key, new Kept(result, System.nanoTime()));
    }

    /** The job an identical request is already waiting for (now one more caller waits), or null: start one. */
    Shared attach(String key, Shared mine) {
        while (true) {
            Shared s = running.putIfAbsent(key, mine);
            if (s == null) {
                return null;
            }
            int before = s.callers.get();
            if (before > 0 && s.callers.compareAndSet(before, before + 1)) {
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
