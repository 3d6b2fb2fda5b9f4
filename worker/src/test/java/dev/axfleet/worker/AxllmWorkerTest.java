package dev.axfleet.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import dev.axfleet.broker.ErrorCode;
import dev.axfleet.broker.BrokerAddress;
import dev.axfleet.broker.chat.FinishReason;
import dev.axfleet.broker.JobResult;
import dev.axfleet.broker.Outcome;
import dev.axfleet.broker.Topics;
import dev.axfleet.broker.WireCodec;
import dev.axfleet.broker.testing.TestMqttClient;
import dev.axfleet.broker.testing.TestMqttClient.Answer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A real worker on a real broker, running the axllm serve emulator as its child process, driven by MQTT
 * jobs exactly as a device would send them.
 */
class AxllmWorkerTest extends WorkerHarness {
    static final String MODEL = "qwen3-1.7b";

    @Override
    WorkerConfig config(BrokerAddress broker, Path dir) {
        return EmulatedWorkers.axllm(broker, MODEL, dir, EmulatedWorkers.FAST);
    }

    int runtimePort() {
        return ((WorkerConfig.AxllmServe) config.runtime()).config().port();
    }

    @Test
    void answersAChatJobAndStreamsItsDeltasInOrder() throws Exception {
        Answer a = ask("stream-1", "{\"messages\":[{\"role\":\"system\",\"content\":\"Be brief.\"},{\"role\":\"user\",\"content\":\"Hello\"}]}", true);
        JobResult r = a.result();
        assertEquals(Outcome.DONE, r.outcome(), () -> String.valueOf(r.error()));
        assertTrue(r.chat().text().startsWith("(emulated Qwen3-1.7B)"), r.chat().text());
        assertEquals(r.chat().text(), a.streamedText(), "deltas add up to the result");
        for (int i = 0; i < a.deltas().size(); i++) {
            assertEquals(i, a.deltas().get(i).seq());
        }
        assertTrue(a.deltas().size() > 5);
        // The stream's finish chunk carries no usage (openai-api.cpp encoder.hpp create_sse_finish): counts are estimates.
        assertTrue(r.chat().usage().estimated(), "axllm serve streams no usage; the worker estimates it and says so");
        assertTrue(r.chat().usage().promptTokens() > 0 && r.chat().usage().completionTokens() > 0);
        assertEquals(java.util.List.of(), r.warnings());
        assertEquals(FinishReason.STOP, r.chat().finishReason());
        assertEquals("test-" + MODEL, r.worker());
    }

    @Test
    void thinkingAskedForComesApartFromTheAnswerAndOtherwiseNotAtAll() throws Exception {
        Answer thought = ask("think-1", "{\"prompt\":\"Why do coyotes howl?\",\"think\":true}", true);
        JobResult r = thought.result();
        assertEquals(Outcome.DONE, r.outcome(), () -> String.valueOf(r.error()));
        assertTrue(r.chat().thinking().startsWith("Okay, the visitor asks"), r.chat().thinking());
        assertTrue(r.chat().text().startsWith("(emulated Qwen3-1.7B)"), "the answer alone, its blank lines gone: " + r.chat().text());
        assertFalse(r.chat().text().contains("think>") || r.chat().text().contains("Okay, the visitor"), r.chat().text());
        assertEquals(r.chat().thinking(), thought.streamedThinking().strip());
        assertEquals(r.chat().text(), thought.streamedText());
        assertTrue(thought.deltas().get(0).thinking(), "thinking streams first");

        Answer plain = ask("think-0", "{\"prompt\":\"Why do coyotes howl?\"}", true);
        assertNull(plain.result().chat().thinking());
        assertEquals("", plain.streamedThinking());
        assertFalse(plain.result().chat().text().contains("think>") || plain.result().chat().text().contains("Okay, the visitor"), plain.result().chat().text());
        var prompts = EmulatorControl.stats(runtimePort()).getAsJsonArray("prompts");
        assertTrue(prompts.get(prompts.size() - 1).getAsString().endsWith("<|im_start|>assistant\n<think>\n\n</think>\n\n"),
                "the worker told the runtime not to think, so the template closed the thinking block: " + prompts.get(prompts.size() - 1));
    }

    @Test
    void withoutStreamOnlyTheResultArrives() throws Exception {
        Answer a = ask("plain-1", "{\"prompt\":\"Hello\"}", false);
        assertEquals(Outcome.DONE, a.result().outcome());
        assertTrue(a.deltas().isEmpty());
    }

    @Test
    void maxTokensEndsTheAnswerWithLength() throws Exception {
        Answer a = ask("len-1", "{\"prompt\":\"Tell me a long story\",\"max_tokens\":5}", true);
        assertEquals(FinishReason.LENGTH, a.result().chat().finishReason());
        assertEquals(5, a.result().chat().usage().completionTokens());
        assertEquals(a.result().chat().text(), a.streamedText());
    }

    @Test
    void aStopSequenceEndsTheAnswerBeforeIt() throws Exception {
        String params = "{\"prompt\":\"Sing about the desert\",\"seed\":7";
        String full = ask("stop-full", params + "}", false).result().chat().text();
        String[] words = full.split(" ");
        String stop = " " + words[6];
        String expected = full.substring(0, full.indexOf(stop));
        Answer a = ask("stop-1", params + ",\"stop\":[\"" + stop + "\"]}", true);
        assertEquals(expected, a.result().chat().text());
        assertEquals(expected, a.streamedText(), "no part of the stop sequence is streamed");
        assertEquals(FinishReason.STOP, a.result().chat().finishReason());
    }

    /** A model error inside the 200 stream that says the context is full is context_length_exceeded, not a runtime error. */
    @Test
    void aFullContextReportedInsideTheStreamIsContextLengthExceeded() throws Exception {
        EmulatorControl.fault(runtimePort(), "context_full", 0);
        JobResult r = ask("ctx-1", "{\"prompt\":\"Hello\"}", true).result();
        assertEquals(Outcome.ERROR, r.outcome());
        assertEquals(ErrorCode.CONTEXT_LENGTH_EXCEEDED, r.error().code(), r.error().message());
        assertEquals(Outcome.DONE, ask("ctx-2", "{\"prompt\":\"Hello\"}", true).result().outcome(), "the runtime was not restarted for it");
    }

    /** Keys the runtime does not read per request (main.cpp@00d7aaf) are said in the result, on the wire. */
    @Test
    void aSeedTheRuntimeIgnoresIsSaidInTheResult() throws Exception {
        JobResult r = ask("seed-1", "{\"prompt\":\"Hello\",\"seed\":42}", false).result();
        assertEquals(Outcome.DONE, r.outcome());
        assertTrue(r.warnings().stream().anyMatch(w -> w.startsWith("seed not honoured")), r.warnings().toString());
    }

    @Test
    void anInvalidJobGetsAnErrorNamingTheField() throws Exception {
        Answer a = ask("bad-1", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"temperature\":7}", false);
        assertEquals(Outcome.ERROR, a.result().outcome());
        assertEquals("params.temperature", a.result().error().field());
        assertEquals(ErrorCode.INVALID_JOB, a.result().error().code());
    }

    @Test
    void anImageJobSentToAChatModelIsRefusedNamingTheTaskAndTheLoopGoesOn() throws Exception {
        String reply = Topics.reply("device", "img-1");
        BlockingQueue<Mqtt5Publish> inbox = device.subscribe(reply);
        device.publish(Topics.jobs(config.model()), "{\"id\":\"img-1\",\"task\":\"txt2img\",\"reply_to\":\"" + reply
                + "\",\"params\":{\"prompt\":\"a fox\"}}");
        JobResult r = TestMqttClient.await(inbox, WAIT).result();
        assertEquals(Outcome.ERROR, r.outcome());
        assertEquals("task", r.error().field());
        assertTrue(r.error().message().contains("image model"), r.error().message());
        assertEquals(Outcome.DONE, ask("after-img-1", "{\"prompt\":\"hi\"}", false).result().outcome());
    }

    @Test
    void garbageOnTheJobTopicIsAnsweredOnTheDefaultResultTopicAndTheLoopGoesOn() throws Exception {
        BlockingQueue<Mqtt5Publish> results = device.subscribe(Topics.ROOT + "/results/" + MODEL + "/+");
        device.publish(Topics.jobs(MODEL), "this is not json {");
        JobResult r = TestMqttClient.await(results, WAIT).result();
        assertEquals(Outcome.ERROR, r.outcome());
        assertEquals("payload", r.error().field());
        assertEquals(Outcome.DONE, ask("after-garbage", "{\"prompt\":\"still there?\"}", false).result().outcome());
    }

    @Test
    void anExpiredJobIsAnsweredExpiredNotRun() throws Exception {
        String reply = Topics.reply("device", "old-1");
        BlockingQueue<Mqtt5Publish> inbox = device.subscribe(reply);
        long past = System.currentTimeMillis() - 1000;
        device.publish(Topics.jobs(MODEL), "{\"id\":\"old-1\",\"reply_to\":\"" + reply + "\",\"created_at\":" + (past - 5000)
                + ",\"expires_at\":" + past + ",\"params\":{\"prompt\":\"too late\"}}");
        JobResult r = TestMqttClient.await(inbox, WAIT).result();
        assertEquals(Outcome.EXPIRED, r.outcome());
        assertNotNull(r.queueMs());
        assertTrue(r.queueMs() >= 5000, "queue wait counts from created_at");
    }

    @Test
    void aJobCancelledBeforeItRunsIsAnsweredCancelled() throws Exception {
        device.publish(Topics.cancel(MODEL), new String(WireCodec.encodeCancel("gone-1"), StandardCharsets.UTF_8));
        Thread.sleep(200);
        assertEquals(Outcome.CANCELLED, ask("gone-1", "{\"prompt\":\"never mind\"}", false).result().outcome());
    }

    @Test
    void aJobCancelledWhileRunningEndsCancelledAndTheNextJobIsAnswered() throws Exception {
        EmulatorControl.fault(runtimePort(), "hang", 2);
        String reply = Topics.reply("device", "running-1");
        BlockingQueue<Mqtt5Publish> inbox = device.subscribe(reply);
        device.publish(Topics.jobs(MODEL), "{\"id\":\"running-1\",\"reply_to\":\"" + reply
                + "\",\"stream\":true,\"params\":{\"prompt\":\"stop me\"}}");
        assertNotNull(inbox.poll(30, TimeUnit.SECONDS), "the job is running: a delta arrived");
        device.publish(Topics.cancel(MODEL), new String(WireCodec.encodeCancel("running-1"), StandardCharsets.UTF_8));
        JobResult r = TestMqttClient.await(inbox, WAIT).result();
        assertEquals(Outcome.CANCELLED, r.outcome());
        assertTrue(r.runMs() < 1000, "cancelled at once, not after the 1 s stall timeout: " + r.runMs() + " ms");
        assertEquals(Outcome.DONE, ask("after-cancel", "{\"prompt\":\"next\"}", false).result().outcome(),
                "the next job is answered (the stuck runtime is found and restarted)");
    }

    @Test
    void mqtt5ResponseTopicAndCorrelationDataAreHonoured() throws Exception {
        String reply = "lamps/7/answer";
        BlockingQueue<Mqtt5Publish> inbox = device.subscribe(reply);
        device.request(Topics.jobs(MODEL), "{\"params\":{\"prompt\":\"hi\"}}", reply, "corr-77".getBytes(StandardCharsets.UTF_8));
        Answer a = TestMqttClient.await(inbox, WAIT);
        assertEquals("corr-77", a.result().id(), "the correlation data names the job when the JSON has no id");
        java.nio.ByteBuffer corr = a.raw().get(0).getCorrelationData().orElseThrow();
        byte[] bytes = new byte[corr.remaining()];
        corr.duplicate().get(bytes);
        assertEquals("corr-77", new String(bytes, StandardCharsets.UTF_8), "correlation data echoed on the reply");
    }

    @Test
    void aRuntimeCrashMidAnswerIsRestartedAndTheJobAnsweredOnce() throws Exception {
        EmulatorControl.fault(runtimePort(), "crash", 3);
        String reply = Topics.reply("device", "crash-1");
        BlockingQueue<Mqtt5Publish> inbox = device.subscribe(reply);
        device.publish(Topics.jobs(MODEL), "{\"id\":\"crash-1\",\"reply_to\":\"" + reply + "\",\"params\":{\"prompt\":\"crash please\"}}");
        Answer a = TestMqttClient.await(inbox, WAIT);
        assertEquals(Outcome.DONE, a.result().outcome(), () -> String.valueOf(a.result().error()));
        assertNull(inbox.poll(500, TimeUnit.MILLISECONDS), "answered once");
    }

    @Test
    void aHungRuntimeIsDetectedRestartedAndTheJobAnswered() throws Exception {
        EmulatorControl.fault(runtimePort(), "hang", 2);
        Answer a = ask("hang-1", "{\"prompt\":\"hang please\"}", false);
        assertEquals(Outcome.DONE, a.result().outcome(), () -> String.valueOf(a.result().error()));
        assertTrue(a.result().runMs() >= 1000, "the stall timeout (1 s) passed before the restart");
    }

    @Test
    void threePublishersTwentyJobsEachAreAllAnsweredEachInItsOrder() throws Exception {
        List<TestMqttClient> publishers = new ArrayList<>();
        List<BlockingQueue<Mqtt5Publish>> inboxes = new ArrayList<>();
        for (int p = 0; p < 3; p++) {
            TestMqttClient c = TestMqttClient.connect(broker.address(), "publisher-" + p);
            publishers.add(c);
            inboxes.add(c.subscribe(Topics.ROOT + "/reply/pub" + p + "/+"));
        }
        List<Thread> threads = new ArrayList<>();
        for (int p = 0; p < 3; p++) {
            int n = p;
            Thread t = new Thread(() -> {
                for (int i = 0; i < 20; i++) {
                    String id = "p" + n + "-" + i;
                    publishers.get(n).publish(Topics.jobs(MODEL), "{\"id\":\"" + id + "\",\"reply_to\":\"" + Topics.reply("pub" + n, id)
                            + "\",\"params\":{\"prompt\":\"job " + id + "\",\"max_tokens\":4}}");
                }
            });
            threads.add(t);
            t.start();
        }
        for (Thread t : threads) {
            t.join(WAIT.toMillis());
        }
        for (int p = 0; p < 3; p++) {
            for (int i = 0; i < 20; i++) {
                JobResult r = TestMqttClient.await(inboxes.get(p), WAIT).result();
                assertEquals("p" + p + "-" + i, r.id(), "publisher " + p + " answered in its order");
                assertEquals(Outcome.DONE, r.outcome());
            }
        }
        publishers.forEach(TestMqttClient::close);
    }

    @Test
    void aConversationLongerThanTheContextLosesItsOldestTurnsAndSaysHowMany() throws Exception {
        StringBuilder messages = new StringBuilder("[{\"role\":\"system\",\"content\":\"You are the coyote.\"}");
        for (int turn = 0; turn < 40; turn++) {
            messages.append(",{\"role\":\"user\",\"content\":\"question ").append(turn).append(' ').append("sand ".repeat(60)).append("\"}");
            messages.append(",{\"role\":\"assistant\",\"content\":\"answer ").append(turn).append(' ').append("moon ".repeat(60)).append("\"}");
        }
        messages.append(",{\"role\":\"user\",\"content\":\"and the last question?\"}]");
        JobResult r = ask("long-history", "{\"messages\":" + messages + ",\"max_tokens\":16}", false).result();
        assertEquals(Outcome.DONE, r.outcome(), () -> String.valueOf(r.error()));
        assertTrue(r.chat().droppedMessages() > 0 && r.chat().droppedMessages() % 2 == 0, "whole turns dropped: " + r.chat().droppedMessages());
        var prompts = EmulatorControl.stats(runtimePort()).getAsJsonArray("prompts");
        String seen = prompts.get(prompts.size() - 1).getAsString();
        assertTrue(seen.contains("You are the coyote.") && seen.contains("and the last question?"), "system prompt and latest turn kept");
        assertFalse(seen.contains("question 0 "), "the oldest turn went first");
        assertTrue(seen.contains("question 39 "), "the newest turns stayed");
    }
}
