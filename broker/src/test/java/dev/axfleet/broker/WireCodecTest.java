package dev.axfleet.broker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.axfleet.broker.chat.ChatMessage;
import dev.axfleet.broker.chat.ChatOutput;
import dev.axfleet.broker.chat.ChatParams;
import dev.axfleet.broker.chat.FinishReason;
import dev.axfleet.broker.embed.EmbedParams;
import dev.axfleet.broker.embed.Embeddings;
import dev.axfleet.broker.image.ImageCodec;
import dev.axfleet.broker.image.ImageParams;
import dev.axfleet.broker.image.Images;
import dev.axfleet.broker.image.ResizeMode;
import dev.axfleet.broker.interrogate.InterrogateParams;
import dev.axfleet.broker.interrogate.Interrogation;
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
                0.9, 0.95, 85, 125, List.of("#", "["), 42L, 0.0, 0.5, 1.5, true);
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
            "{\"task\":\"txt2img\",\"params\":{\"width\":512}}                   | params.prompt",
            "{\"task\":\"txt2img\",\"params\":{\"prompt\":\"a\",\"width\":0}}     | params.width",
            "{\"task\":\"txt2img\",\"params\":{\"prompt\":\"a\",\"height\":2049}} | params.height",
            "{\"task\":\"txt2img\",\"params\":{\"prompt\":\"a\",\"width\":\"big\"}} | params.width",
            "{\"task\":\"txt2img\",\"params\":{\"prompt\":\"a\",\"seed\":\"x\"}}  | params.seed",
            "{\"task\":\"img2img\",\"params\":{\"prompt\":\"a\"}}               | params.init_image",
            "{\"task\":\"img2img\",\"params\":{\"prompt\":\"a\",\"init_image\":\"%%%\"}} | params.init_image",
            "{\"task\":\"img2img\",\"params\":{\"prompt\":\"a\",\"init_image\":\"iVBO\",\"denoising_strength\":2}} | params.denoising_strength",
            "{\"task\":\"img2img\",\"params\":{\"prompt\":\"a\",\"init_image\":\"iVBO\",\"resize_mode\":3}} | params.resize_mode",
            "{\"task\":\"interrogate\",\"params\":{}}                              | params.image",
            "{\"task\":\"interrogate\",\"params\":{\"image\":\"iVBO\",\"categories\":{\"mood\":[]}}} | params.categories.mood",
            "{\"task\":\"interrogate\",\"params\":{\"image\":\"iVBO\",\"categories\":[\"x\"]}} | params.categories",
            "{\"a\":[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]}                         | payload",
            "{\"task\":\"embed\",\"params\":{}}                                  | params.input",
            "{\"task\":\"embed\",\"params\":{\"input\":[]}}                     | params.input",
            "{\"task\":\"embed\",\"params\":{\"input\":\"\"}}                   | params.input",
            "{\"task\":\"embed\",\"params\":{\"input\":[1,2]}}                  | params.input",
            "{\"task\":\"embed\",\"params\":{\"input\":\"a\",\"dimensions\":0}} | params.dimensions",
            "{\"task\":\"embed\",\"params\":{\"input\":\"a\",\"encoding_format\":\"int8\"}} | params.encoding_format",
    })
    void invalidJobsNameTheField(String json, String field) {
        InvalidJobException e = assertThrows(InvalidJobException.class, () -> decode(json.trim()));
        assertEquals(field, e.error().field());
        assertEquals(ErrorCode.INVALID_JOB, e.error().code());
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
    void imageJobsSurviveEncodeAndDecodeWithClientSeeds() throws Exception {
        Job txt = decode("{\"id\":\"i1\",\"task\":\"txt2img\",\"params\":{\"prompt\":\"a red fox\",\"seed\":4294967295,"
                + "\"width\":240,\"height\":240,\"steps\":7,\"cfg_scale\":1.5,\"sampler_name\":\"DPM++ 2M Karras\"}}");
        ImageParams p = (ImageParams) txt.params();
        assertEquals(Task.TXT2IMG, txt.task());
        assertEquals(4294967295L, p.seed(), "32-bit seeds as clients send them");
        assertEquals(240, p.width());
        assertEquals(7, p.steps());
        assertEquals(txt.params(), WireCodec.decodeJob(TOPIC, WireCodec.encodeJob(txt), null, null).params());
        ImageParams defaults = (ImageParams) decode("{\"task\":\"txt2img\",\"params\":{\"prompt\":\"\",\"seed\":-1}}").params();
        assertEquals(null, defaults.seed(), "-1 lets the worker pick");
        assertEquals(512, defaults.width());
        assertEquals(512, defaults.height());

        String png = java.util.Base64.getEncoder().encodeToString(new byte[1 << 21]);
        Job img = decode("{\"task\":\"img2img\",\"params\":{\"prompt\":\"a\",\"init_image\":\"" + png
                + "\",\"denoising_strength\":0.4,\"resize_mode\":2}}");
        assertEquals(ResizeMode.PAD, ((ImageParams) img.params()).resizeMode());
        assertEquals(img.params(), WireCodec.decodeJob(TOPIC, WireCodec.encodeJob(img), null, null).params(),
                "a 2 MiB input image travels (chat text stops at 1 MiB)");
        InvalidJobException tooBig = assertThrows(InvalidJobException.class,
                () -> decode("{\"params\":{\"prompt\":\"" + "x".repeat(ImageCodec.MAX_JOB_BYTES / 2) + "\"}}"));
        assertEquals("params.prompt", tooBig.error().field(), "a chat job's text is bounded apart from its images");
        InvalidJobException wayTooBig = assertThrows(InvalidJobException.class,
                () -> decode("{\"params\":{\"prompt\":\"" + "x".repeat(ImageCodec.MAX_JOB_BYTES + 16) + "\"}}"));
        assertEquals("payload", wayTooBig.error().field());

        Job tags = decode("{\"task\":\"interrogate\",\"params\":{\"image\":\"iVBO\",\"categories\":{\"mood\":[\"calm\",\"tense\"],"
                + "\"thing\":\"fox\"}}}");
        InterrogateParams ip = (InterrogateParams) tags.params();
        assertEquals(java.util.List.of("mood", "thing"), java.util.List.copyOf(ip.categories().keySet()), "categories keep their order");
        assertEquals(tags.params(), WireCodec.decodeJob(TOPIC, WireCodec.encodeJob(tags), null, null).params());
    }

    @Test
    void imageAndInterrogationResultsSurviveEncodeAndDecode() {
        Job job = new Job("i", "sd", new InterrogateParams("iVBO", null), "r/i", null, null, null, false);
        Job txt2img = new Job("i", "sd", new ImageParams(Task.TXT2IMG, "fox", null, null, 512, 512, null, null, null, null, null, null),
                "r/i", null, null, null, false);
        JobResult images = JobResult.done(txt2img, new Images(java.util.List.of("iVBORw0KGgo="), 3000000000L, "{\"steps\":4}"),
                1L, 2, "w");
        assertEquals(images, WireCodec.decodeReply(WireCodec.encodeResult(images)));
        assertTrue(new String(WireCodec.encodeResult(images), StandardCharsets.UTF_8).contains("\"task\":\"txt2img\""), "results name their task");
        JobResult tags = JobResult.done(job, new Interrogation("fox, snow", java.util.List.of(new Interrogation.Tag("fox", 0.31)),
                java.util.Map.of("mood", new Interrogation.Winner("calm", 0.8))), null, 2, "w");
        assertEquals(tags, WireCodec.decodeReply(WireCodec.encodeResult(tags)));
    }

    @Test
    void resultsAndDeltasSurviveEncodeAndDecode() {
        JobResult r = new JobResult("j", "m", Task.CHAT, Outcome.DONE, new ChatOutput("text", FinishReason.LENGTH, new Usage(3, 4, true), 5L, 6,
                "Okay, a coyote."), null, 12L, 34, "w", java.util.List.of("cut short"));
        assertEquals(r, WireCodec.decodeReply(WireCodec.encodeResult(r)));
        JobResult e = JobResult.failed("j", "m", Task.CHAT, Outcome.ERROR, JobError.invalid("params.x", "bad"), null, 0, "w");
        assertEquals(e, WireCodec.decodeReply(WireCodec.encodeResult(e)));
        JobDelta d = new JobDelta("j", 3, " wind");
        assertEquals(d, WireCodec.decodeReply(WireCodec.encodeDelta(d)));
        JobDelta thought = new JobDelta("j", 4, " hmm", true);
        assertEquals(thought, WireCodec.decodeReply(WireCodec.encodeDelta(thought)));
    }

    @Test
    void workerStateSurvivesEncodeAndDecode() {
        WorkerState s = new WorkerState("w", "m", WorkerState.Phase.READY, "axllm-serve", true, 2047, 5, 1, 2, "boom",
                Instant.ofEpochMilli(77), new CardRef("pi-1", 0), "card 0 is hot (82 °C)", java.util.List.of(41L, 42L), 1,
                java.util.Set.of(Task.TXT2IMG, Task.IMG2IMG), java.util.Set.of(Capability.VISION), java.util.List.of("alloy"), null);
        assertEquals(s, WireCodec.decodeWorkerState(WireCodec.encodeWorkerState(s)));
        WorkerState offline = WorkerState.offline("w", "m", null);
        assertEquals(offline, WireCodec.decodeWorkerState(WireCodec.encodeWorkerState(offline)));
    }

    @Test
    void aResultWithoutATaskIsAChatResultAsAJobWithoutOneIsAChatJob() {
        String older = "{\"v\":1,\"type\":\"result\",\"id\":\"b1\",\"model\":\"m\",\"outcome\":\"done\",\"text\":\"hi\",\"finish_reason\":\"stop\",\"run_ms\":3}";
        JobResult r = (JobResult) WireCodec.decodeReply(older.getBytes(StandardCharsets.UTF_8));
        assertEquals(Task.CHAT, r.task());
        assertEquals("hi", r.chat().text());
    }

    @Test
    void embeddingJobsAndResultsSurviveEncodeAndDecodeInBothFormats() throws Exception {
        Job one = decode("{\"id\":\"e1\",\"task\":\"embed\",\"params\":{\"input\":\"a red fox\"}}");
        EmbedParams p = (EmbedParams) one.params();
        assertEquals(Kind.EMBEDDING, one.kind());
        assertEquals(List.of("a red fox"), p.input());
        assertTrue(p.truncate(), "Ollama's default");
        assertEquals(EmbedParams.Format.FLOAT, p.format());
        Job many = decode("{\"task\":\"embed\",\"params\":{\"input\":[\"a\",\"b\"],\"dimensions\":64,\"truncate\":false,"
                + "\"encoding_format\":\"base64\"}}");
        assertEquals(many.params(), WireCodec.decodeJob(TOPIC, WireCodec.encodeJob(many), null, null).params());
        float[] v = {0.6f, -0.8f, 1e-7f};
        for (EmbedParams.Format format : EmbedParams.Format.values()) {
            JobResult r = JobResult.done(one, new Embeddings(List.of(v, v), new Usage(5, 0, true), format), 1L, 2, "w");
            JobResult back = (JobResult) WireCodec.decodeReply(WireCodec.encodeResult(r));
            Embeddings e = back.output(Embeddings.class);
            assertEquals(format, e.format());
            assertEquals(2, e.vectors().size());
            assertEquals(java.util.Arrays.toString(v), java.util.Arrays.toString(e.vectors().get(1)), "float32 values travel exactly");
            assertEquals(new Usage(5, 0, true), e.usage());
        }
    }

    @Test
    void chatBoundsAreChatParamsOwn() {
        assertThrows(IllegalArgumentException.class, () -> new ChatParams(List.of(ChatMessage.user("x")), 2.5, null, null, null, null, null,
                null, null, null, false), "the record refuses what the wire refuses");
        InvalidJobException e = assertThrows(InvalidJobException.class,
                () -> decode("{\"params\":{\"prompt\":\"hi\",\"temperature\":" + (ChatParams.TEMPERATURE.max() + 0.5) + "}}"));
        assertEquals("params.temperature", e.error().field());
    }
}
