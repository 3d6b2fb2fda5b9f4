package dev.axfleet.gateway.bus;

import dev.axfleet.broker.ErrorCode;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Jobs whose callers were let go while the broker was away. When it stays away longer than the broker grace,
 * waiting callers are answered 503 with Retry-After instead of hanging, and their jobs are cancelled once the broker
 * is back (a retry by the caller must not run next to the original).
 */
final class OrphanJobs {
    private static final Logger log = LoggerFactory.getLogger(OrphanJobs.class);

    private final BusConnection bus;
    private final Submissions submissions;
    private final ScheduledExecutorService timer;
    private final Duration grace;
    private final BooleanSupplier connected;
    private final Map<String, String> orphans = new ConcurrentHashMap<>();

    OrphanJobs(BusConnection bus, Submissions submissions, ScheduledExecutorService timer, Duration grace, BooleanSupplier connected) {
        this.bus = bus;
        this.submissions = submissions;
        this.timer = timer;
        this.grace = grace;
        this.connected = connected;
    }

    void disconnected() {
        try {
            timer.schedule(this::answerWaitersIfStillAway, grace.toMillis(), TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            // The gateway is closing; nobody is waiting any more.
        }
    }

    void connected() {
        orphans.forEach((id, model) -> {
            log.info("job={} cancelled: its caller was answered 503 while the broker was away", id);
            bus.publishCancel(model, id).thenRun(() -> orphans.remove(id));
        });
    }

    private void answerWaitersIfStillAway() {
        if (connected.getAsBoolean()) {
            return;
        }
        for (Submission s : submissions.all()) {
            if (orphans.putIfAbsent(s.id(), s.model()) == null) {
                s.deliver(Submissions.gatewayFailure(s, ErrorCode.BROKER_UNAVAILABLE,
                        "the connection to the MQTT broker was lost while the job waited; it was cancelled"));
            }
        }
    }
}
