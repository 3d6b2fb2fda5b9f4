package dev.axfleet.broker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class WireCodecTest {
    static final String TOPIC = Topics.jobs("qwen3-1.7b");

    static Job decode(String json) throws InvalidJobException {
        return WireCodec.decodeJob(TOPIC, json.getBytes(StandardCharsets.UTF_8), null, null);
    }

    @Test
    void aJobSurvivesEncodeAndDecode() throws Exception {
        ChatParams params = new ChatParams(List.of(ChatMessage.system("Be a coyote."), ChatMessage.user("Howl?")),
                0.9, 0.95, 85, 125, List.of("#", "["), 42L, 0.0, 0.5, 1.5);
        Job job = new Job("j1", "qwen3-1.7b", params, "lamps/1", null, Instant.ofEpochMilli(1000), Instant.ofEpochMilli(5000), true);
        Job back = WireCodec.decodeJob(TOPIC, WireCodec.encodeJob(job), null, null);
        assertEquals(job.id(), back.id());
        assertEquals(job.params(), back.params());
        assertEquals(job.replyTo(), back.replyTo());
        assertEquals(job.createdAt(), back.createdAt());
        assertEquals(job.expiresAt(), back.expiresAt());
        assertTrue(back.stream());
    }

    @Test
    void theSmallestDeviceJobIsEnough() throws Exception {
        Job job = decode("{\"id\":\"b1\",\"reply_to\":\"lamp/1\",\"params\":{\"prompt\":\"Say hi\"}}");
        assertEquals(List.of(ChatMessage.user("Say hi")), ((ChatParams) job.params()).messages());
        assertEquals("lamp/1", job.replyTo());
        assertNull(job.createdAt());
        assertFalse(job.stream());
    }

    @Test
    void withoutAReplyTopicTheResultGoesToTheDefaultTopic() throws Exception {
        Job job = decode("{\"id\":\"b2\",\"params\":{\"prompt\":\"hi\"}}");
        assertEquals(Topics.defaultResult("qwen3-1.7b", "b2"), job.replyTo());
    }

    @Test
    void theMqtt5ResponseTopicAndCorrelationDataServeWhenTheJsonHasNone() throws Exception {
        byte[] corr = "c-9".getBytes(StandardCharsets.UTF_8);
        Job job = WireCodec.decodeJob(TOPIC, "{\"params\":{\"prompt\":\"hi\"}}".getBytes(StandardCharsets.UTF_8), "answers/x", corr);
        assertEquals("answers/x", job.replyTo());
        assertEquals("c-9", job.id());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "{\"params\":{\"prompt\":\"hi\",\"temperature\":3}}                      | params.temperature",
            "{\"params\":{\"prompt\":\"hi\",\"top_p\":\"high\"}}                     | params.top_p",
            "{\"params\":{\"prompt\":\"hi\",\"max_tokens\":0}}                       | params.max_tokens",
            "{\"params\":{\"prompt\":\"hi\",\"max_tokens\":1.5}}                     | params.max_tokens",
            "{\"params\":{\"prompt\":\"hi\",\"stop\":[1]}}                           | params.stop",
            "{\"params\":{\"messages\":[]}}                                          | params.messages",
            "{\"params\":{\"messages\":[{\"role\":\"robot\",\"content\":\"x\"}]}}    | params.messages[0].role",
            "{\"params\":{\"messages\":[{\"role\":\"user\"}]}}                       | params.messages[0].content",
            "{\"params\":{}}                                                         | params.messages",
            "{\"id\":\"a b\",\"params\":{\"prompt\":\"hi\"}}                         | id",
            "{\"reply_to\":\"axfleet/v1/workers/x/y\",\"params\":{\"prompt\":\"hi\"}} | reply_to",
            "{\"reply_to\":\"a/#\",\"params\":{\"prompt\":\"hi\"}}                   | reply_to",
            "{\"v\":2,\"params\":{\"prompt\":\"hi\"}}                                | v",
            "{\"task\":\"dance\",\"params\":{\"prompt\":\"hi\"}}                     | task",
            "{\"model\":\"other\",\"params\":{\"prompt\":\"hi\"}}                    | model",
            "{\"expires_at\":\"soon\",\"params\":{\"prompt\":\"hi\"}}                | expires_at",
            "[1,2,3]                                                                 | payload",
            "{\"a\":[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]}                         | payload",
    })
    void invalidJobsNameTheField(String json, String field) {
        InvalidJobException e = assertThrows(InvalidJobException.class, () -> decode(json.trim()));
        assertEquals(field, e.error().field());
        assertEquals(JobError.INVALID_JOB, e.error().code());
    }

    @Test
    void anInvalidJobStillKnowsWhereItsErrorGoes() {
        InvalidJobException e = assertThrows(InvalidJobException.class,
                () -> decode("{\"id\":\"x1\",\"reply_to\":\"lamp/2\",\"params\":{\"prompt\":7}}"));
        assertEquals("x1", e.jobId());
        assertEquals("lamp/2", e.replyTo());
        assertEquals("params.prompt", e.error().field());
    }

    @Test
    void resultsAndDeltasSurviveEncodeAndDecode() {
        JobResult r = new JobResult("j", "m", Outcome.DONE, "text", FinishReason.LENGTH, new Usage(3, 4, true), 12L, 34, 5L, null, "w", 6);
        assertEquals(r, WireCodec.decodeReply(WireCodec.encodeResult(r)));
        JobResult e = JobResult.failed("j", "m", Outcome.ERROR, JobError.invalid("params.x", "bad"), null, 0, "w");
        assertEquals(e, WireCodec.decodeReply(WireCodec.encodeResult(e)));
        JobDelta d = new JobDelta("j", 3, " wind");
        assertEquals(d, WireCodec.decodeReply(WireCodec.encodeDelta(d)));
    }

    @Test
    void workerStateSurvivesEncodeAndDecode() {
        WorkerState s = new WorkerState("w", "m", WorkerState.Phase.READY, "axllm-serve", true, 2047, 5, 1, 2, "boom",
                Instant.ofEpochMilli(77), new CardRef("pi-1", 0), "card 0 is hot (82 °C)", java.util.List.of(41L, 42L), 1);
        assertEquals(s, WireCodec.decodeWorkerState(WireCodec.encodeWorkerState(s)));
        WorkerState offline = WorkerState.offline("w", "m", null);
        assertEquals(offline, WireCodec.decodeWorkerState(WireCodec.encodeWorkerState(offline)));
    }
}
