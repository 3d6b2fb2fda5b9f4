package dev.axfleet.worker.priority;

import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import dev.axfleet.broker.Priority;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The intake's one redelivery rule, as {@code AnsweredJobs}' first one for the job loop: with Receive Maximum 1 each
 * intake connection has at most one job unacknowledged, and the broker resends it first on the next connection. A job
 * handed off whose acknowledgement the broker may not have had is <em>pending</em> until the connection's next delivery
 * proves it had (the broker sends the next job only then), or that next connection's first delivery is that very job
 * again: acknowledged then, not handed off twice. Kept on disk, so a worker that restarts knows it too.
 * <p>
 * Written ahead: a job is recorded as <em>sending</em> before its handoff goes out and as handed off once the broker
 * took the handoff. A worker that stopped in between cannot know whether the handoff reached the broker; the job that
 * comes back is then handed off again marked as a possible repeat ({@link Resent#MAYBE}), and the worker that takes it
 * runs it only when nobody answered it ({@code AnsweredJobs}) — never lost, never answered twice.
 */
final class Handed {
    /** What a job that came back first on its connection is. */
    enum Resent {
        /** Not the one pending: a job to decide. */
        NO,
        /** The one handed off, whose acknowledgement the broker may not have had: acknowledge it, hand nothing off. */
        HANDED,
        /** The one whose handoff was going out when the worker stopped: hand it off again, marked as a possible repeat. */
        MAYBE
    }

    private record Pending(String digest, boolean sure) {
    }

    private final Path file;
    private final Function<Mqtt5Publish, String> digest;
    private final Map<Priority, Pending> pending = new EnumMap<>(Priority.class);
    private BufferedWriter out;

    Handed(Path file, Function<Mqtt5Publish, String> digest) {
        this.file = file;
        this.digest = digest;
        try {
            Files.createDirectories(file.getParent());
            if (Files.exists(file)) {
                for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                    String[] f = line.split("\t", -1);
                    Priority p = f.length >= 2 ? Priority.parse(f[1]).orElse(null) : null;
                    if (p != null && (f[0].equals("H") || f[0].equals("S")) && f.length == 3) {
                        pending.put(p, new Pending(f[2], f[0].equals("H")));
                    } else if (p != null && f[0].equals("K")) {
                        pending.remove(p);
                    }
                }
            }
            List<String> lines = new ArrayList<>();
            pending.forEach((p, d) -> lines.add((d.sure() ? "H" : "S") + "\t" + p.wire() + "\t" + d.digest()));
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            Files.write(tmp, lines, StandardCharsets.UTF_8);
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            out = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot keep the handed-off record at " + file, e);
        }
    }

    /** The job {@code p} of {@code priority}'s connection is about to be handed off (before its handoff goes out). */
    synchronized void sending(Priority priority, Mqtt5Publish p) {
        record(priority, p, false);
    }

    /** The handoff of {@code p} failed: it stays on its connection, nothing is pending. */
    synchronized void notSent(Priority priority) {
        forget(priority);
    }

    /** The broker took the handoff of {@code p}: pending until the broker is known to have its acknowledgement. */
    synchronized void handing(Priority priority, Mqtt5Publish p) {
        record(priority, p, true);
    }

    private void record(Priority priority, Mqtt5Publish p, boolean sure) {
        if (p.getQos() == MqttQos.AT_MOST_ONCE) {
            return; // never resent
        }
        // The connection holds one job at a time: one being sent is the job the broker now took, its digest (a hash of
        // what may be a whole image) already known.
        Pending sending = pending.get(priority);
        String d = sure && sending != null && !sending.sure() ? sending.digest() : digest.apply(p);
        pending.put(priority, new Pending(d, sure));
        append((sure ? "H" : "S") + "\t" + priority.wire() + "\t" + d);
    }

    private void forget(Priority priority) {
        if (pending.remove(priority) != null) {
            append("K\t" + priority.wire());
        }
    }

    /**
     * A job arrived on {@code priority}'s connection ({@code first}: the first since it connected): whether it is the
     * pending one resent ({@link Resent}).
     */
    synchronized Resent resent(Priority priority, Mqtt5Publish p, boolean first) {
        Pending d = pending.get(priority);
        if (d == null) {
            return Resent.NO;
        }
        if (first && p.getQos() != MqttQos.AT_MOST_ONCE && d.digest().equals(digest.apply(p))) {
            if (d.sure()) {
                return Resent.HANDED;
            }
            forget(priority);
            return Resent.MAYBE;
        }
        forget(priority);
        return Resent.NO;
    }

    synchronized void close() {
        try {
            out.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void append(String line) {
        try {
            out.write(line);
            out.newLine();
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }
}
