package dev.axfleet.worker;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Job ids someone asked to cancel. A cancel can arrive before its job (which still waits in the broker),
 * so ids are kept for {@code ttl}, at most {@code capacity} of them.
 */
final class Cancellations {
    private final Clock clock;
    private final Duration ttl;
    private final int capacity;
    private final LinkedHashMap<String, Instant> ids = new LinkedHashMap<>();

    Cancellations(Clock clock, Duration ttl, int capacity) {
        this.clock = clock;
        this.ttl = ttl;
        this.capacity = capacity;
    }

    synchronized void add(String id) {
        Instant now = clock.instant();
        ids.put(id, now.plus(ttl));
        Iterator<Map.Entry<String, Instant>> it = ids.entrySet().iterator();
        while (it.hasNext()) {
            Map.Entry<String, Instant> e = it.next();
            if (ids.size() > capacity || e.getValue().isBefore(now)) {
                it.remove();
            } else {
                break;
            }
        }
    }

    synchronized boolean contains(String id) {
        return ids.containsKey(id);
    }
}
