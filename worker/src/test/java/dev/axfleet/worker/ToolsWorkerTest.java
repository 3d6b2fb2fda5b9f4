package dev.axfleet.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.axfleet.broker.BrokerAddress;
import dev.axfleet.broker.Capability;
import dev.axfleet.broker.ErrorCode;
import dev.axfleet.broker.JobResult;
import dev.axfleet.broker.Outcome;
import dev.axfleet.broker.Topics;
import dev.axfleet.broker.WireCodec;
import dev.axfleet.broker.WorkerState;
import dev.axfleet.broker.chat.FinishReason;
import dev.axfleet.broker.chat.ToolCall;
import dev.axfleet.broker.testing.TestMqttClient.Answer;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * Tool calls and JSON answers through a real worker and the emulated axllm serve, as a device sends them over MQTT:
 * a call round trip, a call left in the text, a broken call, and a JSON answer valid at once, after a retry, or never.
 */
class ToolsWorkerTest extends WorkerHarness {
    static final String MODEL = "qwen3-0.6b";
    static final String TOOLS = "\"tools\":[{\"name\":\"get_weather\",\"description\":\"The weather in a city\",\"parameters\":"
            + "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}},\"required\":[\"city\"]}}]";
    static final String SCHEMA = "{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\"},\"legs\":{\"type\":\"integer\",\"minimum\":0}},"
            + "\"required\":[\"name\",\"legs\"],\"additionalProperties\":false}";

    @Override
    WorkerConfig config(BrokerAddress broker, Path dir) {
        return EmulatedWorkers.axllm(broker, MODEL, dir, EmulatedWorkers.FAST);
    }

    int runtimePort() {
        return ((WorkerConfig.AxllmServe) config.runtime()).config().port();
    }

    @Test
    void aToolIsCalledAndItsAnswerComesBackIntoTheConversation() throws Exception {
        var states = device.subscribe(Topics.workerState(config.model(), config.workerId()));
        WorkerState state = WireCodec.decodeWorkerState(states.poll(10, java.util.concurrent.TimeUnit.SECONDS).getPayloadAsBytes());
        assertTrue(state.capabilities().contains(Capability.TOOLS), "a Qwen3 folder announces tools: " + state);
        JobResult call = ask("t1", "{\"messages\":[{\"role\":\"user\",\"content\":\"Weather in Oslo?\"}]," + TOOLS + "}", true).result();
        assertEquals(Outcome.DONE, call.outcome(), String.valueOf(call.error()));
        assertEquals(FinishReason.TOOL_CALLS, call.chat().finishReason());
        ToolCall c = call.chat().toolCalls().get(0);
        assertEquals("get_weather", c.name());
        assertEquals("call_0_get_weather", c.id(), "the runtime's id (docs/tool_calling.md)");
        assertEquals("emulated", JsonParser.parseString(c.arguments()).getAsJsonObject().get("city").getAsString());

        JobResult answer = ask("t2", "{\"messages\":[{\"role\":\"user\",\"content\":\"Weather in Oslo?\"},"
                + "{\"role\":\"assistant\",\"content\":\"\",\"tool_calls\":[{\"id\":\"call_0_get_weather\",\"name\":\"get_weather\","
                + "\"arguments\":\"{\\\"city\\\":\\\"Oslo\\\"}\"}]},"
                + "{\"role\":\"tool\",\"tool_call_id\":\"call_0_get_weather\",\"content\":\"-3 C and snowing\"}]," + TOOLS + "}", true).result();
        assertEquals(FinishReason.STOP, answer.chat().finishReason(), String.valueOf(answer.error()));
        assertTrue(answer.chat().text().contains("The tool answered: -3 C and snowing"), answer.chat().text());
    }

    @Test
    void aCallLeftInTheTextIsReadAndABrokenOneIsRefusedWithItsText() throws Exception {
        EmulatorControl.fault(runtimePort(), "tool_text", 0);
        Answer leaked = ask("t3", "{\"messages\":[{\"role\":\"user\",\"content\":\"Weather?\"}]," + TOOLS + "}", true);
        assertEquals(FinishReason.TOOL_CALLS, leaked.result().chat().finishReason(), String.valueOf(leaked.result().error()));
        assertEquals("get_weather", leaked.result().chat().toolCalls().get(0).name());
        assertTrue(!leaked.streamedText().contains("<tool_call>"), "the block is not streamed as text: " + leaked.streamedText());

        EmulatorControl.fault(runtimePort(), "tool_broken", 0);
        JobResult broken = ask("t4", "{\"messages\":[{\"role\":\"user\",\"content\":\"Weather?\"}]," + TOOLS + "}", false).result();
        assertEquals(Outcome.ERROR, broken.outcome());
        assertEquals(ErrorCode.TOOL_CALL_MALFORMED, broken.error().code(), broken.error().toString());
        assertTrue(broken.error().message().contains("not a JSON object"), broken.error().message());
    }

    @Test
    void aJsonAnswerIsValidatedAndAskedForAgainUntilItIs() throws Exception {
        String job = "{\"messages\":[{\"role\":\"user\",\"content\":\"Describe a coyote\"}],\"response_format\":{\"type\":\"json_schema\","
                + "\"name\":\"animal\",\"schema\":" + SCHEMA + "}}";
        Answer first = ask("j1", job, true);
        assertEquals(Outcome.DONE, first.result().outcome(), String.valueOf(first.result().error()));
        JsonObject animal = JsonParser.parseString(first.result().chat().text()).getAsJsonObject();
        assertEquals("emulated", animal.get("name").getAsString());
        assertEquals(0, animal.get("legs").getAsInt(), "the schema's minimum");
        assertEquals(first.result().chat().text(), first.streamedText(), "one delta, the validated JSON");

        EmulatorControl.fault(runtimePort(), "bad_json", 0, 1);
        JobResult retried = ask("j2", job, false).result();
        assertEquals(Outcome.DONE, retried.outcome(), String.valueOf(retried.error()));
        assertTrue(retried.warnings().stream().anyMatch(w -> w.contains("after 2 tries")), retried.warnings().toString());
        var prompts = EmulatorControl.stats(runtimePort()).getAsJsonArray("prompts");
        assertTrue(prompts.get(prompts.size() - 1).getAsString().contains("That answer is not valid"), "the retry told the model why");

        EmulatorControl.fault(runtimePort(), "bad_json", 0, 3);
        JobResult failed = ask("j3", job, false).result();
        assertEquals(ErrorCode.JSON_VALIDATION_FAILED, failed.error().code(), String.valueOf(failed.error()));
        assertEquals("{}", failed.error().detail(), "the last text is attached");
        assertTrue(failed.error().message().contains("after 3 tries"), failed.error().message());
    }

    @Test
    void anyJsonObjectIsAskedForInTheSystemPromptAndCutOutOfTheText() throws Exception {
        JobResult r = ask("j4", "{\"prompt\":\"Describe a coyote\",\"response_format\":{\"type\":\"json_object\"}}", false).result();
        assertEquals(Outcome.DONE, r.outcome(), String.valueOf(r.error()));
        assertTrue(JsonParser.parseString(r.chat().text()).getAsJsonObject().get("emulated").getAsString().startsWith("Qwen3"), r.chat().text());
        EmulatorControl.fault(runtimePort(), "bad_json", 0, 3);
        JobResult repaired = ask("j5", "{\"prompt\":\"Describe a coyote\",\"response_format\":{\"type\":\"json_object\"}}", false).result();
        assertEquals(Outcome.DONE, repaired.outcome(), "prose and an open object are repaired: " + repaired.error());
        assertTrue(repaired.warnings().stream().anyMatch(w -> w.contains("repaired")), repaired.warnings().toString());
        assertEquals(2, JsonParser.parseString(repaired.chat().text()).getAsJsonObject().getAsJsonArray("answer").size());
    }
}
