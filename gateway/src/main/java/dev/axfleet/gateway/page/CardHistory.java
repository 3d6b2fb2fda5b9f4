package dev.axfleet.gateway.page;

import dev.axfleet.broker.CardHealth;
import dev.axfleet.broker.CardReadings;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Each card's readings over the last {@link #WINDOW}, for the page's chart: one sample per health message the monitor
 * published (its {@code at}), taken from what the gateway last heard. Nothing is kept on disk; a restarted gateway
 * starts an empty chart.
 */
public final class CardHistory {
    static final Duration WINDOW = Duration.ofMinutes(10);
    /** A monitor publishing every second for the whole window; its default is every 5 s. */
    static final int MAX_SAMPLES = 600;

    /** One reading of a card; a value the probe could not read is null. */
    public record Sample(Instant at, String state, Double temperatureC, Long cmmUsedMiB, Long cmmTotalMiB, Integer cpuPercent,
                         Integer npuPercent) {
    }

    private final Map<String, Deque<Sample>> samples = new TreeMap<>();

    /** Records what a card last said, once per message. */
    public synchronized void record(CardHealth h) {
        if (h.at() == null) {
            return; // the monitor's last will: no reading
        }
        Deque<Sample> d = samples.computeIfAbsent(h.card().toString(), k -> new ArrayDeque<>());
        if (!d.isEmpty() && !h.at().isAfter(d.peekLast().at())) {
            return;
        }
        CardReadings r = h.readings();
        d.addLast(new Sample(h.at(), h.state().wire(), r.temperatureC(), r.cmmUsedMiB(), r.cmmTotalMiB(), r.cpuPercent(), r.npuPercent()));
        Instant oldest = h.at().minus(WINDOW);
        while (d.size() > MAX_SAMPLES || d.peekFirst().at().isBefore(oldest)) {
            d.removeFirst();
        }
    }

    public synchronized List<Sample> of(String card) {
        Deque<Sample> d = samples.get(card);
        return d == null ? List.of() : new ArrayList<>(d);
    }
}
