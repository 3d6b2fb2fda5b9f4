package dev.axfleet.monitor;

import dev.axfleet.os.Signals;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * The processes using a card: those holding its device node open (as {@code fuser /dev/axcl_host} finds
 * them), which is also what makes a driver reload fail. Stopping them is polite only: SIGINT, a grace
 * period, SIGTERM, another grace period — never SIGKILL, which wedges a card that is loading engines
 * (../shared/axera.md §8.3).
 */
final class CardUsers {
    private final Path deviceNode;
    private final Duration grace;

    CardUsers(Path deviceNode, Duration grace) {
        this.deviceNode = deviceNode;
        this.grace = grace;
    }

    /** Pids with the device node open, this process excluded. Processes of other users cannot be seen without root. */
    List<Long> holders() {
        TreeSet<Long> out = new TreeSet<>();
        Path target;
        try {
            target = deviceNode.toRealPath();
        } catch (IOException e) {
            return List.of();
        }
        long self = ProcessHandle.current().pid();
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            for (Path proc : procs.toList()) {
                String name = proc.getFileName().toString();
                if (!name.chars().allMatch(Character::isDigit) || Long.parseLong(name) == self) {
                    continue;
                }
                if (holds(proc.resolve("fd"), target)) {
                    out.add(Long.parseLong(name));
                }
            }
        } catch (IOException e) {
            return List.copyOf(out);
        }
        return List.copyOf(out);
    }

    private static boolean holds(Path fdDir, Path target) {
        try (Stream<Path> fds = Files.list(fdDir)) {
            for (Path fd : fds.toList()) {
                try {
                    if (Files.readSymbolicLink(fd).equals(target)) {
                        return true;
                    }
                } catch (IOException | UnsupportedOperationException e) {
                    // Closed meanwhile, or not ours to read.
                }
            }
        } catch (IOException | SecurityException e) {
            return false;
        }
        return false;
    }

    /** A process's command line for the event log, or its pid alone. */
    static String describe(long pid) {
        try {
            byte[] raw = Files.readAllBytes(Path.of("/proc/" + pid + "/cmdline"));
            String cmd = new String(raw, StandardCharsets.UTF_8).replace('\0', ' ').strip();
            return pid + " (" + (cmd.length() > 80 ? cmd.substring(0, 80) + "..." : cmd) + ")";
        } catch (IOException e) {
            return String.valueOf(pid);
        }
    }

    /** Stops each process politely; returns the pids still alive afterwards. */
    List<Long> stop(Collection<Long> pids) {
        List<ProcessHandle> handles = pids.stream().map(ProcessHandle::of).flatMap(Optional::stream).toList();
        handles.forEach(h -> Signals.send(h.pid(), Signals.SIGINT));
        List<ProcessHandle> left = awaitAll(handles);
        left.forEach(h -> Signals.send(h.pid(), Signals.SIGTERM));
        return awaitAll(left).stream().map(ProcessHandle::pid).toList();
    }

    private List<ProcessHandle> awaitAll(List<ProcessHandle> handles) {
        long deadline = System.nanoTime() + grace.toNanos();
        List<ProcessHandle> alive = new ArrayList<>();
        for (ProcessHandle h : handles) {
            Duration left = Duration.ofNanos(Math.max(0, deadline - System.nanoTime()));
            if (!Signals.awaitExit(h, left)) {
                alive.add(h);
            }
        }
        return alive;
    }
}
