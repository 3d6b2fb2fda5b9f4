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
 */
final class Handed {
    private final Path file;
    private final Function<Mqtt5Publish, String> digest;
    private final Map<Priority, String> pending = new EnumMap<>(Priority.class);
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
                    if (p != null && f[0].equals("H") && f.length == 3) {
                        pending.put(p, f[2]);
                    } else if (p != null && f[0].equals("K")) {
                        pending.remove(p);
                    }
                }
            }
            List<String> lines = new ArrayList<>();
            pending.forEach((p, d) -> lines.add("H\t" + p.wire() + "\t" + d));
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            Files.write(tmp, lines, StandardCharsets.UTF_8);
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            out = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot keep the handed-off record at " + file, e);
        }
    }

    /** The job {@code p} of {@code priority}'s connection is being handed off: pending until the broker is known to have its acknowledgement. */
    synchronized void handing(Priority priority, Mqtt5Publish p) {
        if (p.getQos() == MqttQos.AT_MOST_ONCE) {
            return; // never resent
        }
        String d = digest.apply(p);
        pending.put(priority, d);
        append("H\t" + priority.wire() + "\t" + d);
    }

    /**
     * A job arrived on {@code priority}'s connection ({@code first}: the first since it connected). True when it is the
     * pending one resent: the caller acknowledges it and hands nothing off.
     */
    synchronized boolean resent(Priority priority, Mqtt5Publish p, boolean first) {
        String d = pending.get(priority);
        if (d == null) {
            return false;
        }
        if (first && p.getQos() != MqttQos.AT_MOST_ONCE && d.equals(digest.apply(p))) {
            return true;
        }
        pending.remove(priority);
        append("K\t" + priority.wire());
        return false;
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
