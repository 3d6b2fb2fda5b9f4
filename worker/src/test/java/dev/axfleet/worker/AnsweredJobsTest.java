package dev.axfleet.worker;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import dev.axfleet.worker.AnsweredJobs.Verdict;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The rule that tells a redelivery from a new job reusing an id (AnsweredJobs; docs/decisions.md), on jobs as the
 * broker hands them over. The end-to-end cases, with a real broker and mosquitto_pub, are in ReusedJobIdsTest.
 */
class AnsweredJobsTest {
    static final Instant T0 = Instant.parse("2026-12-01T10:00:00Z");
    static final byte[] RESULT = "{\"v\":1,\"type\":\"result\",\"id\":\"j1\",\"outcome\":\"done\",\"text\":\"hello\"}".getBytes(StandardCharsets.UTF_8);

    @TempDir
    Path dir;

    static Mqtt5Publish job(String json, MqttQos qos) {
        return Mqtt5Publish.builder().topic("axfleet/v1/jobs/qwen3-1.7b").qos(qos).payload(json.getBytes(StandardCharsets.UTF_8)).build();
    }

    static final Mqtt5Publish J1 = job("{\"id\":\"j1\",\"reply_to\":\"axfleet/v1/reply/me/j1\",\"params\":{\"prompt\":\"Hello\"}}", MqttQos.AT_LEAST_ONCE);

    AnsweredJobs record(String worker) {
        return new AnsweredJobs(dir.resolve(worker + ".txt"), 100, Duration.ofMinutes(5), worker);
    }

    /** As JobLoop does: the delivery, the verdict, and for a job that ran its answer and acknowledgement. */
    static Verdict take(AnsweredJobs a, Mqtt5Publish p, Instant at) {
        String digest = AnsweredJobs.digest(p);
        a.delivered(digest, AnsweredJobs.redeliverable(p));
        Verdict v = a.decide("j1", digest, AnsweredJobs.redeliverable(p), at).verdict();
        if (v == Verdict.RUN) {
            a.add("j1", digest, RESULT, at);
        }
        a.acknowledged(digest);
        return v;
    }

    @Test
    void theSameJobAgainWithinTheWindowGetsItsResultAgainAndLaterRunsAgain() {
        AnsweredJobs a = record("w1");
        assertEquals(Verdict.RUN, take(a, J1, T0));
        AnsweredJobs.Decision again = a.decide("j1", AnsweredJobs.digest(J1), true, T0.plusSeconds(30));
        assertEquals(Verdict.REPLAY, again.verdict(), again.why());
        assertArrayEquals(RESULT, again.result(), "the stored bytes, as published the first time");
        assertEquals(Verdict.RUN, a.decide("j1", AnsweredJobs.digest(J1), true, T0.plus(Duration.ofMinutes(6))).verdict(),
                "past the window the same bytes are a new job");
    }

    @Test
    void anIdUsedAgainForOtherBytesOrAtQos0Runs() {
        AnsweredJobs a = record("w1");
        take(a, J1, T0);
        Mqtt5Publish other = job("{\"id\":\"j1\",\"reply_to\":\"axfleet/v1/reply/me/j1\",\"params\":{\"prompt\":\"Something else\"}}",
                MqttQos.AT_LEAST_ONCE);
        assertEquals(Verdict.RUN, a.decide("j1", AnsweredJobs.digest(other), true, T0.plusSeconds(1)).verdict());
        Mqtt5Publish qos0 = job(new String(J1.getPayloadAsBytes(), StandardCharsets.UTF_8), MqttQos.AT_MOST_ONCE);
        assertEquals(Verdict.RUN, a.decide("j1", AnsweredJobs.digest(qos0), false, T0.plusSeconds(1)).verdict(),
                "QoS 0 is never redelivered: a microcontroller's b1 after a reboot runs");
    }

    @Test
    void theJobHeldWhenTheConnectionDroppedIsAcknowledgedWhenTheBrokerResendsItFirst() {
        AnsweredJobs a = record("w1");
        String digest = AnsweredJobs.digest(J1);
        a.delivered(digest, true);
        assertEquals(Verdict.RUN, a.decide("j1", digest, true, T0).verdict());
        a.connectionLost(List.of(digest)); // while it ran
        a.connectionLost(List.of());       // each failed reconnection says so again, with nothing held by then
        a.delivered(digest, true);          // the broker's copy, first on the new connection
        a.add("j1", digest, RESULT, T0.plusSeconds(2));
        a.acknowledged(digest);
        assertEquals(Verdict.ACKNOWLEDGE, a.decide("j1", digest, true, T0.plusSeconds(3)).verdict(), "not run, not answered twice");
        a.delivered(digest, true);          // the person pastes it again
        assertEquals(Verdict.REPLAY, a.decide("j1", digest, true, T0.plusSeconds(9)).verdict(), "a later identical job is answered");
    }

    @Test
    void aWorkerThatDiedAfterAnsweringAcknowledgesTheRedeliveryAfterItsRestartAndOnlyThat() throws Exception {
        AnsweredJobs first = record("w1");
        String digest = AnsweredJobs.digest(J1);
        first.delivered(digest, true);
        first.decide("j1", digest, true, T0);
        first.add("j1", digest, RESULT, T0); // killed here, before the acknowledgement
        AnsweredJobs restarted = record("w1");
        restarted.delivered(digest, true);
        assertEquals(Verdict.ACKNOWLEDGE, restarted.decide("j1", digest, true, T0.plusSeconds(40)).verdict());
        restarted.acknowledged(digest);
        restarted.close();

        AnsweredJobs third = record("w1"); // its last job was acknowledged: nothing to expect
        third.delivered(digest, true);
        assertEquals(Verdict.REPLAY, third.decide("j1", digest, true, T0.plusSeconds(60)).verdict());
    }

    @Test
    void anotherWorkersAnswerIsReplayedNotRunAgain() {
        AnsweredJobs a = record("pi1-qwen");
        AnsweredJobs b = record("pi2-qwen");
        List<AnsweredJobs.Note> bus = new ArrayList<>();
        a.shareWith(bus::add);
        take(a, J1, T0);
        assertEquals(1, bus.size());
        b.learn(AnsweredJobs.decodeNote(AnsweredJobs.encodeNote(bus.get(0))));
        AnsweredJobs.Decision d = b.decide("j1", AnsweredJobs.digest(J1), true, T0.plusSeconds(20));
        assertEquals(Verdict.REPLAY, d.verdict());
        assertArrayEquals(RESULT, d.result());
        assertTrue(d.why().contains("pi1-qwen"), d.why());
    }

    @Test
    void resultsAreKeptWithinTheirBudgetTheOldestForgottenFirst() throws Exception {
        AnsweredJobs a = record("w1");
        byte[] big = new byte[AnsweredJobs.MAX_RESULT_BYTES];
        int n = (int) (AnsweredJobs.BUDGET_BYTES / big.length) + 2;
        for (int i = 0; i < n; i++) {
            a.add("big-" + i, "d" + i, big, T0);
        }
        assertEquals(Verdict.RUN, a.decide("big-0", "d0", true, T0.plusSeconds(1)).verdict(), "the oldest went first");
        assertEquals(Verdict.REPLAY, a.decide("big-" + (n - 1), "d" + (n - 1), true, T0.plusSeconds(1)).verdict());
        a.add("huge", "dh", new byte[AnsweredJobs.MAX_RESULT_BYTES + 1], T0);
        assertEquals(Verdict.RUN, a.decide("huge", "dh", true, T0.plusSeconds(1)).verdict(), "a result over the limit is not kept");
        a.close();
        assertTrue(Files.size(dir.resolve("w1.txt")) < 3 * AnsweredJobs.BUDGET_BYTES * 4 / 3 + 10_000, "the file stays bounded too");
    }

    @Test
    void aRecordInTheFirstFormatRunsItsJobsAgain() throws Exception {
        Files.writeString(dir.resolve("w1.txt"), "j1\nj2\n");
        assertEquals(Verdict.RUN, record("w1").decide("j1", AnsweredJobs.digest(J1), true, T0).verdict(),
                "the old record silenced j1 for ever; now it is answered");
    }
}
