package dev.axfleet.broker.residency;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonParser;
import dev.axfleet.broker.CardRef;
import dev.axfleet.broker.Task;
import dev.axfleet.broker.WireCodec;
import dev.axfleet.broker.WorkerState;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Ollama's keep_alive as its api/types.go@fb30760 reads it, and the residency fields on the wire. */
class KeepAliveTest {
    private static KeepAlive json(String text) {
        return KeepAlive.parse(JsonParser.parseString(text));
    }

    @Test
    void numbersAreSecondsAndNegativeMeansForEver() {
        assertEquals(Duration.ofSeconds(300), json("300").duration());
        assertEquals(Duration.ofMillis(1500), json("1.5").duration());
        assertTrue(json("0").unloadNow());
        assertTrue(json("-1").forever());
        assertTrue(json("-0.5").forever());
    }

    @Test
    void stringsAreGoDurations() {
        assertEquals(Duration.ofMinutes(10), json("\"10m\"").duration());
        assertEquals(Duration.ofMinutes(90), json("\"1h30m\"").duration());
        assertEquals(Duration.ofMillis(300), json("\"300ms\"").duration());
        assertEquals(Duration.ofMillis(1500), json("\"1.5s\"").duration());
        assertEquals(Duration.ofNanos(2_500), json("\"2us500ns\"").duration());
        assertTrue(json("\"0\"").unloadNow());
        assertTrue(json("\"0s\"").unloadNow());
        assertTrue(json("\"-1m\"").forever());
        assertTrue(json("\"-1h30m\"").forever());
    }

    @Test
    void whatGoWouldRefuseIsRefusedSayingHow() {
        for (String bad : List.of("\"300\"", "\"ten minutes\"", "\"5 m\"", "\"m\"", "\"\"", "true", "{}", "[1]", "null")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> json(bad), bad);
            assertTrue(e.getMessage().contains("duration"), e.getMessage());
        }
    }

    @Test
    void onTheWireItIsSeconds() {
        assertEquals(-1, KeepAlive.FOREVER.seconds());
        assertEquals(600L, KeepAlive.of(Duration.ofMinutes(10)).seconds());
        assertEquals(0.25, KeepAlive.of(Duration.ofMillis(250)).seconds());
        assertEquals("10m", KeepAlive.of(Duration.ofMinutes(10)).toString());
        assertEquals("1h30m", KeepAlive.of(Duration.ofMinutes(90)).toString());
        assertEquals("forever", KeepAlive.FOREVER.toString());
        assertEquals(Instant.ofEpochSecond(600), KeepAlive.of(Duration.ofMinutes(10)).expiry(Instant.EPOCH).orElseThrow());
        assertFalse(KeepAlive.FOREVER.expiry(Instant.EPOCH).isPresent());
    }

    @Test
    void aJobCarriesItsKeepAliveAndABadOneNamesTheField() throws Exception {
        var job = WireCodec.decodeJob("axfleet/v1/jobs/m", "{\"id\":\"a\",\"keep_alive\":\"5m\",\"params\":{\"prompt\":\"hi\"}}".getBytes(), null, null);
        assertEquals(Duration.ofMinutes(5), job.keepAlive().duration());
        var again = WireCodec.decodeJob("axfleet/v1/jobs/m", WireCodec.encodeJob(job), null, null);
        assertEquals(job.keepAlive(), again.keepAlive());
        var bad = assertThrows(dev.axfleet.broker.InvalidJobException.class, () -> WireCodec.decodeJob("axfleet/v1/jobs/m",
                "{\"id\":\"b\",\"keep_alive\":\"soon\",\"params\":{\"prompt\":\"hi\"}}".getBytes(), null, null));
        assertEquals("keep_alive", bad.error().field());
    }

    @Test
    void requestsRepliesAndAWorkersResidenceGoThereAndBack() {
        ResidencyRequest r = new ResidencyRequest(ResidencyRequest.Action.LOAD, "r1", "axfleet/v1/reply/gw/residency/r1",
                KeepAlive.of(Duration.ofMinutes(10)), "admin-http", null, Instant.ofEpochMilli(5), Instant.ofEpochMilli(9));
        assertEquals(r, ResidencyCodec.decodeRequest(ResidencyCodec.encodeRequest(r)).orElseThrow());
        assertTrue(ResidencyCodec.decodeRequest("{\"action\":\"restart-runtime\"}".getBytes()).isEmpty(), "another command");
        ResidencyReply reply = new ResidencyReply("r1", "m", "w", ResidencyReply.Outcome.LOADED, 1234, null, Instant.ofEpochMilli(7));
        assertEquals(reply, ResidencyCodec.decodeReply(ResidencyCodec.encodeReply(reply)));
        Residence home = new Residence(1972, true, KeepAlive.of(Duration.ofMinutes(5)), Instant.ofEpochMilli(100), Instant.ofEpochMilli(300_100));
        WorkerState s = new WorkerState("w", "m", WorkerState.Phase.UNLOADED, "axllm-serve", true, 0, 0, 0, 0, null, Instant.ofEpochMilli(1),
                new CardRef("pi", 0), null, List.of(), 0, Set.of(Task.CHAT), Set.of(), List.of(), home);
        assertEquals(s, WireCodec.decodeWorkerState(WireCodec.encodeWorkerState(s)));
        assertFalse(s.holdsCard());
        assertTrue(s.withPhase(WorkerState.Phase.LOADING, null, null).holdsCard());
    }
}
