package dev.axfleet.worker;

import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Jobs as the broker hands them over, and their acknowledgement: a job is acknowledged only once its answer is with
 * the broker, so one that dies with its worker is delivered again.
 */
final class Delivery {
    private final AnsweredJobs answered;
    private final BlockingQueue<Mqtt5Publish> inbox = new LinkedBlockingQueue<>();
    /**
     * Delivered on the current connection and not yet acknowledged: the job running, or waiting in the inbox.
     * By identity: a copy the broker resends is equal to the first delivery but is acknowledged on its own.
     */
    private final Set<Mqtt5Publish> unacknowledged = Collections.synchronizedSet(Collections.newSetFromMap(new IdentityHashMap<>()));

    /** @param answered told of each delivery, acknowledgement and lost connection: it tells a redelivery from a job used again */
    Delivery(AnsweredJobs answered) {
        this.answered = answered;
    }

    /** Hands over a job as the broker delivered it; called on the MQTT client's thread. */
    void offer(Mqtt5Publish publish) {
        unacknowledged.add(publish);
        answered.delivered(AnsweredJobs.digest(publish), AnsweredJobs.redeliverable(publish));
        inbox.add(publish);
    }

    /** The next job, or null when none came within {@code ms}. */
    Mqtt5Publish next(long ms) throws InterruptedException {
        return inbox.poll(ms, TimeUnit.MILLISECONDS);
    }

    int waiting() {
        return inbox.size();
    }

    void acknowledge(Mqtt5Publish p) {
        if (unacknowledged.remove(p)) {
            p.acknowledge();
            answered.acknowledged(AnsweredJobs.digest(p));
            AnsweredJobs.forget(p);
        }
    }

    /**
     * The job connection dropped: jobs delivered on it are released in the client at once. Their acknowledgement
     * could not reach the broker any more (the client sends none on a later connection); the broker delivers them
     * again on the next one, and {@link AnsweredJobs} absorbs a copy of a job answered meanwhile. Held instead,
     * such a job still counts against Receive Maximum 1 when the broker resends it, and the client drops the
     * new connection as a protocol error, again at every reconnection (Mosquitto 2.0.11, HiveMQ CE alike).
     */
    void connectionLost() {
        List<Mqtt5Publish> held;
        synchronized (unacknowledged) {
            held = List.copyOf(unacknowledged);
        }
        answered.connectionLost(held.stream().filter(AnsweredJobs::redeliverable).map(AnsweredJobs::digest).toList());
        for (Mqtt5Publish p : held) {
            if (unacknowledged.remove(p)) {
                p.acknowledge();
            }
        }
    }
}
