package dev.axfleet.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import dev.axfleet.broker.ErrorCode;
import dev.axfleet.broker.BrokerAddress;
import dev.axfleet.broker.chat.FinishReason;
import dev.axfleet.broker.JobError;
import dev.axfleet.broker.JobResult;
import dev.axfleet.broker.Outcome;
import dev.axfleet.broker.Topics;
import dev.axfleet.broker.WireCodec;
import dev.axfleet.broker.WorkerState;
import dev.axfleet.broker.testing.TestMqttClient;
import dev.axfleet.broker.testing.TestMqttClient.Answer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The legacy main_api runtime (with its tokenizer server), emulated with its quirks, behind a real worker. */
class MainApiWorkerTest extends WorkerHarness {
    static final String MODEL = "qwen3-legacy";

    @Override
    WorkerConfig config(BrokerAddress broker, Path dir) {
        return EmulatedWorkers.mainApi(broker, MODEL, dir, EmulatedWorkers.FAST);
    }

    int port() {
        return ((WorkerConfig.MainApi) config.runtime()).config().port();
    }

    @Test
    void answersWithTheJobsPersonaAndTheWholeHistoryInThePrompt() throws Exception {
        Answer a = ask("legacy-1", "{\"messages\":[{\"role\":\"system\",\"content\":\"You are a coyote.\"},"
                + "{\"role\":\"user\",\"content\":\"Who are you?\"},{\"role\":\"assistant\",\"content\":\"A coyote.\"},"
                + "{\"role\":\"user\",\"content\":\"Where do you live?\"}]}", true);
        JobResult r = a.result();
        assertEquals(Outcome.DONE, r.outcome(), () -> String.valueOf(r.error()));
        assertTrue(r.chat().text().startsWith("(emulated Qwen3-1.7B)"), "a non-empty answer despite the early empty done: " + r.chat().text());
        assertEquals(r.chat().text(), a.streamedText());
        assertTrue(r.chat().usage().estimated(), "main_api reports no usage; the worker estimates it");
        JsonArray prompts = EmulatorControl.stats(port()).getAsJsonArray("prompts");
        String last = prompts.get(prompts.size() - 1).getAsString();
        assertTrue(last.contains("User: Who are you?") && last.contains("Assistant: A coyote.") && last.endsWith("Where do you live?"), last);
    }

    @Test
    void samplingSettingsAreSentEveryTimeSoOneJobsSettingsDoNotLeakIntoTheNext() throws Exception {
        String plain = "{\"prompt\":\"Describe the moon\"}";
        String before = ask("sticky-1", plain, false).result().chat().text();
        ask("sticky-2", "{\"prompt\":\"Describe the moon\",\"temperature\":0.99,\"top_k\":85,\"top_p\":0.9}", false);
        String after = ask("sticky-3", plain, false).result().chat().text();
        assertEquals(before, after, "the defaults are sent again after a job that changed them");
    }

    /** LLM.hpp@086f4e6 {@code Run}: the callback gets three tokens at a time, the remainder at EOS. */
    @Test
    void theRuntimeHandsTokensOverInThrees() throws Exception {
        JobResult r = ask("legacy-threes", "{\"prompt\":\"Describe the desert at night\"}", true).result();
        assertEquals(Outcome.DONE, r.outcome());
        JsonArray pieces = EmulatorControl.stats(port()).getAsJsonArray("last_pieces");
        assertTrue(pieces.size() > 3, pieces.toString());
        for (int i = 0; i < pieces.size() - 1; i++) {
            assertEquals(3, pieces.get(i).getAsInt(), "piece " + i + " of " + pieces);
        }
        assertTrue(pieces.get(pieces.size() - 1).getAsInt() <= 3);
        assertTrue(r.chat().text().endsWith("."), "nothing lost at EOS: " + r.chat().text());
    }

    @Test
    void maxTokensIsEnforcedWithApiStop() throws Exception {
        JobResult r = ask("legacy-len", "{\"prompt\":\"Tell me everything\",\"max_tokens\":3}", false).result();
        assertEquals(Outcome.DONE, r.outcome());
        assertEquals(FinishReason.LENGTH, r.chat().finishReason());
        assertTrue(r.chat().text().length() < 40, r.chat().text());
        int dropped = EmulatorControl.stats(port()).get("last_dropped").getAsInt();
        assertTrue(dropped >= 0 && dropped <= 2, "a stop drops at most the two tokens the runtime holds: " + dropped);
        assertEquals(Outcome.DONE, ask("legacy-after-stop", "{\"prompt\":\"And now?\"}", false).result().outcome(),
                "the runtime takes the next job after /api/stop");
    }

    @Test
    void aPromptLargerThanTheContextIsAContextErrorAndTheNextJobRuns() throws Exception {
        String huge = "word ".repeat(3000);
        JobResult r = ask("legacy-huge", "{\"prompt\":\"" + huge + "\"}", false).result();
        assertEquals(Outcome.ERROR, r.outcome());
        assertEquals(ErrorCode.CONTEXT_LENGTH_EXCEEDED, r.error().code());
        assertEquals(Outcome.DONE, ask("legacy-after-huge", "{\"prompt\":\"short\"}", false).result().outcome());
    }

    @Test
    void theRuntimesOwnContextFullAnswerIsAContextError() throws Exception {
        EmulatorControl.fault(port(), "context_full", 0);
        JobResult r = ask("legacy-full", "{\"prompt\":\"short, but the runtime says its context is full\"}", false).result();
        assertEquals(ErrorCode.CONTEXT_LENGTH_EXCEEDED, r.error().code(), String.valueOf(r.error()));
        assertEquals(Outcome.DONE, ask("legacy-after-full", "{\"prompt\":\"short\"}", false).result().outcome());
    }

    @Test
    void theContextFullWedgeIsCuredByARestart() throws Exception {
        BlockingQueue<Mqtt5Publish> states = device.subscribe(Topics.workerState(MODEL, config.workerId()));
        EmulatorControl.fault(port(), "wedge", 0);
        JobResult r = ask("legacy-wedge", "{\"prompt\":\"hello\"}", false).result();
        assertEquals(Outcome.DONE, r.outcome(), () -> String.valueOf(r.error()));
        List<WorkerState.Phase> phases = new ArrayList<>();
        for (Mqtt5Publish p; (p = states.poll(200, TimeUnit.MILLISECONDS)) != null && phases.size() < 20; ) {
            phases.add(WireCodec.decodeWorkerState(p.getPayloadAsBytes()).phase());
        }
        assertTrue(phases.contains(WorkerState.Phase.RESTARTING), "the worker restarted the runtime: " + phases);
        assertEquals(WorkerState.Phase.READY, phases.get(phases.size() - 1));
    }
}
