package dev.axfleet.worker;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * What a worker remembers of the jobs it answered, to tell a <em>redelivery</em> (the broker resending a job this
 * worker or another of its model received and answered, but whose acknowledgement the broker never got) from a
 * <em>new job that reuses an id</em> (docs/protocol.md's example pasted twice; a device that counts b1, b2 … again
 * after a reboot). MQTT shows no DUP flag to the client, so the rule is (docs/decisions.md, "A job id used again"):
 * <ol>
 * <li>The one job a redelivery can be: with Receive Maximum 1 the broker has at most one unacknowledged job out to
 *     this worker, the last one delivered, and it resends it first on the next connection. So a job held
 *     unacknowledged when the connection dropped (or the process stopped) is the <em>expected redelivery</em>; the
 *     first job of the next connection that is byte for byte that job is it: acknowledged, not run again (its
 *     result, if it had one, was already taken by the broker). Anything else clears the expectation.</li>
 * <li>A job at QoS 1 or 2 that is byte for byte (payload, response topic, correlation data) a job answered within
 *     {@link #REPLAY_WINDOW} (5 minutes), here or by another worker of the model (they share their answers on
 *     {@code axfleet/v1/answered/{model}}, so a redelivery that reaches another worker through the shared
 *     subscription is not run twice either): its stored result is published again. A redelivery the rules above
 *     could not recognise costs a duplicate result with the same id, never a second run; a new job of the same
 *     bytes gets the answer it would have got.</li>
 * <li>Everything else runs: a job at QoS 0 (never redelivered), different bytes under a known id, or one older than
 *     the window. Nothing is ever acknowledged without an answer having been published for it.</li>
 * </ol>
 * Results are kept up to {@link #MAX_RESULT_BYTES} each and {@link #BUDGET_BYTES} in all (the oldest forgotten first),
 * on disk so a restarted worker keeps them.
 */
final class AnsweredJobs {
    /** The largest result kept for a replay; a larger one (a big picture) runs again instead. */
    static final int MAX_RESULT_BYTES = 2 << 20;
    /** All the results kept, in bytes. */
    static final long BUDGET_BYTES = 8L << 20;
    /**
     * How long the same bytes get the stored result again: a redelivery comes at the next connection, within seconds
     * of a broker restart or a worker's return (a model load), or when a broker gives a departed worker's job to
     * another (HiveMQ at once, Mosquitto when the session expires, which this window does not cover).
     */
    static final Duration REPLAY_WINDOW = Duration.ofMinutes(5);

    enum Verdict { RUN, ACKNOWLEDGE, REPLAY }

    /** What to do with a delivered job; {@code result} the encoded result to publish again with {@code REPLAY}. */
    record Decision(Verdict verdict, byte[] result, String why) {
    }

    /** A job answered by this worker, as shared with the other workers of the model. */
    record Note(String id, String digest, long atMs, String worker, byte[] result) {
    }

    private record Answer(String digest, long atMs, byte[] result, String worker) {
        long bytes() {
            return 64 + (result == null ? 0 : result.length);
        }
    }

    private final Path file;
    private final int capacity;
    private final Duration window;
    private final String self;
    private final LinkedHashMap<String, Answer> answers = new LinkedHashMap<>();
    private long bytes;
    private Consumer<Note> share = n -> { };
    private BufferedWriter out;
    private long written;
    /** The digest of the job held unacknowledged when the connection last dropped, if any. */
    private String expected;
    private boolean awaitingFirst;
    private String firstAfterLoss;

    AnsweredJobs(Path file, int capacity, Duration window, String self) {
        this.file = file;
        this.capacity = capacity;
        this.window = window;
        this.self = self;
        try {
            Files.createDirectories(file.getParent());
            if (Files.exists(file)) {
                load(Files.readAllLines(file, StandardCharsets.UTF_8));
            }
            rewrite();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot keep the answered-jobs record at " + file, e);
        }
    }

    /** Where this worker's answers go for the other workers of its model (before each job is acknowledged). */
    synchronized void shareWith(Consumer<Note> share) {
        this.share = share;
    }

    /** The last few deliveries' digests, by identity: a job's digest is asked for four times, and a picture's payload is 18 MiB. */
    private static final Map<Mqtt5Publish, String> RECENT = java.util.Collections.synchronizedMap(new java.util.IdentityHashMap<>());

    /** The bytes that make a job the same job: topic, payload, response topic and correlation data (SHA-256, 128 bits). */
    static String digest(Mqtt5Publish p) {
        String known = RECENT.get(p);
        if (known != null) {
            return known;
        }
        String d = computeDigest(p);
        synchronized (RECENT) {
            if (RECENT.size() >= 4) {
                RECENT.clear();
            }
            RECENT.put(p, d);
        }
        return d;
    }

    /** The job was acknowledged: its digest (and payload) need not be kept any more. */
    static void forget(Mqtt5Publish p) {
        RECENT.remove(p);
    }

    private static String computeDigest(Mqtt5Publish p) {
        try {
            MessageDigest d = MessageDigest.getInstance("SHA-256");
            // A job handed off from an intake is the job as published: its digest is taken on the topic it was published on.
            d.update(dev.axfleet.worker.priority.Handoff.jobTopic(p).getBytes(StandardCharsets.UTF_8));
            d.update((byte) 0);
            d.update(p.getPayloadAsBytes());
            d.update((byte) 0);
            d.update(p.getResponseTopic().map(Object::toString).orElse("").getBytes(StandardCharsets.UTF_8));
            d.update((byte) 0);
            p.getCorrelationData().map(ByteBuffer::duplicate).ifPresent(d::update);
            return HexFormat.of().formatHex(Arrays.copyOf(d.digest(), 16));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static boolean redeliverable(Mqtt5Publish p) {
        return p.getQos() != MqttQos.AT_MOST_ONCE;
    }

    /** A job arrived from the broker (on the MQTT client's thread, in delivery order). */
    synchronized void delivered(String digest, boolean redeliverable) {
        if (awaitingFirst) {
            awaitingFirst = false;
            firstAfterLoss = redeliverable && digest.equals(expected) ? digest : null;
            expected = null;
        }
        if (redeliverable) {
            append("D\t" + digest);
        }
    }

    /** Taken by this worker: an acknowledgement was handed to the client for the job of {@code digest}. */
    synchronized void acknowledged(String digest) {
        append("K\t" + digest);
    }

    /**
     * The connection dropped with these jobs unacknowledged: the broker resends the last of them first. Called again
     * for each failed reconnection, with none held by then: the expectation stands until the next delivery.
     */
    synchronized void connectionLost(List<String> unacknowledged) {
        if (!unacknowledged.isEmpty()) {
            expected = unacknowledged.get(unacknowledged.size() - 1);
            awaitingFirst = true;
        }
    }

    synchronized Decision decide(String id, String digest, boolean redeliverable, Instant now) {
        if (digest.equals(firstAfterLoss)) {
            firstAfterLoss = null;
            Answer a = answers.get(id);
            if (a != null && a.digest().equals(digest) && self.equals(a.worker())) {
                return new Decision(Verdict.ACKNOWLEDGE, null, "the broker resent it after the connection dropped; it was answered");
            }
        }
        Answer a = answers.get(id);
        if (!redeliverable || a == null || !a.digest().equals(digest) || a.result() == null) {
            return new Decision(Verdict.RUN, null, a == null ? "new" : !redeliverable ? "QoS 0 is never a redelivery"
                    : !a.digest().equals(digest) ? "the id was used before by a different job" : "its earlier result was too large to keep");
        }
        if (now.toEpochMilli() - a.atMs() > window.toMillis()) {
            return new Decision(Verdict.RUN, null, "the same job was answered more than " + window + " ago");
        }
        return new Decision(Verdict.REPLAY, a.result(), "the same bytes were answered " + (now.toEpochMilli() - a.atMs()) + " ms ago by "
                + (self.equals(a.worker()) ? "this worker" : a.worker()));
    }

    /** Records a job as answered (its result taken by the broker), shares it, all before the job is acknowledged. */
    void add(String id, String digest, byte[] result, Instant at) {
        Note note;
        synchronized (this) {
            byte[] kept = result != null && result.length <= MAX_RESULT_BYTES ? result : null;
            remember(id, new Answer(digest, at.toEpochMilli(), kept, self));
            append("A\t" + id + "\t" + digest + "\t" + at.toEpochMilli() + "\t" + (kept == null ? "-" : Base64.getEncoder().encodeToString(kept)));
            note = new Note(id, digest, at.toEpochMilli(), self, kept);
        }
        share.accept(note);
    }

    /** Another worker of the model answered a job (its note from the bus). */
    synchronized void learn(Note n) {
        if (self.equals(n.worker())) {
            return;
        }
        remember(n.id(), new Answer(n.digest(), n.atMs(), n.result(), n.worker()));
    }

    static byte[] encodeNote(Note n) {
        JsonObject o = new JsonObject();
        o.addProperty("v", 1);
        o.addProperty("id", n.id());
        o.addProperty("digest", n.digest());
        o.addProperty("at", n.atMs());
        o.addProperty("worker", n.worker());
        if (n.result() != null) {
            o.addProperty("result", Base64.getEncoder().encodeToString(n.result()));
        }
        return o.toString().getBytes(StandardCharsets.UTF_8);
    }

    static Note decodeNote(byte[] payload) {
        JsonObject o = JsonParser.parseString(new String(payload, StandardCharsets.UTF_8)).getAsJsonObject();
        return new Note(o.get("id").getAsString(), o.get("digest").getAsString(), o.get("at").getAsLong(), o.get("worker").getAsString(),
                o.has("result") ? Base64.getDecoder().decode(o.get("result").getAsString()) : null);
    }

    synchronized void close() {
        try {
            out.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void remember(String id, Answer a) {
        Answer old = answers.remove(id);
        if (old != null) {
            bytes -= old.bytes();
        }
        answers.put(id, a);
        bytes += a.bytes();
        Iterator<Map.Entry<String, Answer>> it = answers.entrySet().iterator();
        while ((answers.size() > capacity || bytes > BUDGET_BYTES) && it.hasNext()) {
            bytes -= it.next().getValue().bytes();
            it.remove();
        }
    }

    /**
     * The record as the previous process left it: answers, and whether its last job delivered was still
     * unacknowledged (a D line after the last K), which makes that job the redelivery to expect first.
     * A line of the first format (an id alone) is no answer: a job under that id runs again.
     */
    private void load(List<String> lines) {
        String lastDelivered = null;
        for (String line : lines) {
            String[] f = line.split("\t", -1);
            if (f.length == 5 && f[0].equals("A")) {
                try {
                    remember(f[1], new Answer(f[2], Long.parseLong(f[3]), f[4].equals("-") ? null : Base64.getDecoder().decode(f[4]), self));
                } catch (IllegalArgumentException e) {
                    // a line cut by a crash mid-write: that answer is forgotten, its job runs again if it comes
                }
            } else if (f.length == 2 && f[0].equals("D")) {
                lastDelivered = f[1];
            } else if (f.length == 2 && f[0].equals("K") && f[1].equals(lastDelivered)) {
                lastDelivered = null;
            }
        }
        expected = lastDelivered;
        awaitingFirst = expected != null;
    }

    private void append(String line) {
        try {
            out.write(line);
            out.newLine();
            out.flush();
            written += line.length() + 1;
            if (written > 3 * BUDGET_BYTES) {
                rewrite();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    private void rewrite() throws IOException {
        if (out != null) {
            out.close();
        }
        List<String> lines = new ArrayList<>();
        for (Map.Entry<String, Answer> e : answers.entrySet()) {
            Answer a = e.getValue();
            if (self.equals(a.worker())) {
                lines.add("A\t" + e.getKey() + "\t" + a.digest() + "\t" + a.atMs() + "\t"
                        + (a.result() == null ? "-" : Base64.getEncoder().encodeToString(a.result())));
            }
        }
        if (expected != null) {
            lines.add("D\t" + expected);
        }
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.write(tmp, lines, StandardCharsets.UTF_8);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        written = Files.size(file);
        out = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.APPEND);
    }
}
