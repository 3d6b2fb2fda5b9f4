package dev.axfleet.worker.priority;

import dev.axfleet.broker.Task;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.EnumMap;
import java.util.Map;

/**
 * How long this worker's jobs of each task took, measured: the last {@value #KEPT} finished runs of each. A task never run
 * here has no pace (0): nothing is answered early on a guess.
 */
public final class Pace {
    static final int KEPT = 16;
    private final Map<Task, Deque<Long>> runs = new EnumMap<>(Task.class);

    /** A job of {@code task} finished in {@code runMs}. */
    public synchronized void record(Task task, long runMs) {
        if (task == null || runMs < 0) {
            return;
        }
        Deque<Long> d = runs.computeIfAbsent(task, t -> new ArrayDeque<>());
        d.addLast(runMs);
        while (d.size() > KEPT) {
            d.removeFirst();
        }
    }

    /** The median of the recent runs: what a job of {@code task} ahead of another is expected to take. */
    public synchronized long typicalMs(Task task) {
        Deque<Long> d = runs.get(task);
        if (d == null || d.isEmpty()) {
            return 0;
        }
        long[] sorted = d.stream().mapToLong(Long::longValue).sorted().toArray();
        return sorted[sorted.length / 2];
    }

    /** The shortest recent run: the least a job of {@code task} is expected to take (an optimist's estimate). */
    public synchronized long leastMs(Task task) {
        Deque<Long> d = runs.get(task);
        return d == null ? 0 : d.stream().mapToLong(Long::longValue).min().orElse(0);
    }
}
