package dev.axfleet.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.axfleet.broker.chat.ChatMessage;
import dev.axfleet.broker.chat.ChatParams;
import dev.axfleet.broker.chat.FinishReason;
import dev.axfleet.broker.testing.TestBroker;
import dev.axfleet.emulator.EmulatedModel;
import dev.axfleet.worker.runtime.AxllmServeRuntime;
import dev.axfleet.worker.runtime.ChatOutcome;
import dev.axfleet.worker.runtime.EngineException;
import dev.axfleet.worker.runtime.Generation;
import dev.axfleet.worker.runtime.RuntimeStartException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The axllm serve adapter against an emulator that does what AXERA-TECH/ax-llm src/main.cpp@00d7aaf and
 * ZHEQIUSHUI/openai-api.cpp@127f3e7 do (docs/hardware.md F1-F5, F31-F35): the overlay folder and its config.json, the
 * stream's deadline, errors inside the stream, usage, the model folder's system prompt, the card index, keys the runtime
 * does not read, and stopping only when the runtime is idle.
 */
class AxllmFidelityTest {
    @TempDir
    Path dir;

    private AxllmServeRuntime runtime(String modelName, Map<String, String> env, int card, Duration serverTimeout, Consumer<JsonObject> edit)
            throws IOException {
        Path model = EmulatedModel.writeModelDir(dir, "model", modelName);
        Path file = model.resolve("config.json");
        JsonObject c = JsonParser.parseString(Files.readString(file)).getAsJsonObject();
        edit.accept(c);
        Files.writeString(file, c.toString());
        Files.writeString(model.resolve("qwen3_tokenizer.txt"), "emulated tokenizer\n");
        return new AxllmServeRuntime(EmulatedWorkers.axllmRuntime(model, dir.resolve("state"), TestBroker.freePort(), env, card, serverTimeout));
    }

    private static ChatParams ask(String text) {
        return new ChatParams(List.of(ChatMessage.user(text)), null, null, null, null, null, null, null, null, null, false);
    }

    private static Generation generation(int maxTokens, List<String> out) {
        return new Generation(List.of(), maxTokens, out::add, () -> false);
    }

    @Test
    void theRuntimeRunsOnAnOverlayWhoseConfigCarriesTheTimeoutAndTheCardAndTheModelFolderIsUntouched() throws Exception {
        try (AxllmServeRuntime r = runtime("Qwen3-1.7B", EmulatedWorkers.FAST, 0, Duration.ofMinutes(30), c -> { })) {
            String before = Files.readString(dir.resolve("model/config.json"));
            r.start(Duration.ofSeconds(30));
            Path overlay = dir.resolve("state/axllm-model");
            JsonObject c = JsonParser.parseString(Files.readString(overlay.resolve("config.json"))).getAsJsonObject();
            assertEquals(1_800_000, c.get("server_timeout_ms").getAsInt());
            assertEquals("[0]", c.get("devices").toString());
            assertEquals("Qwen3-1.7B", c.get("model_name").getAsString(), "the model's own settings are kept");
            assertTrue(Files.isSymbolicLink(overlay.resolve("qwen3_tokenizer.txt")), "the model's files are linked, not copied");
            assertEquals(before, Files.readString(dir.resolve("model/config.json")), "the downloaded config.json is not edited");
            List<String> out = new ArrayList<>();
            ChatOutcome o = r.chat(ask("Hello"), generation(512, out));
            assertEquals(FinishReason.STOP, o.finishReason());
            assertTrue(o.text().startsWith("(emulated Qwen3-1.7B)"), o.text());
        }
    }

    /**
     * server.cpp:355-364: when the stream outlives server_timeout_ms the server writes {@code [DONE]} and closes, with no
     * finish chunk. That answer is cut short and says so; it is not a "stop".
     */
    @Test
    void doneWithoutAFinishReasonIsAnAnswerCutShortAndTheResultSaysSo() throws Exception {
        try (AxllmServeRuntime r = runtime("Qwen3-1.7B", Map.of("AXFLEET_EMULATOR_TIME_SCALE", "0.1"), 0, Duration.ofMillis(400), c -> { })) {
            r.start(Duration.ofSeconds(30));
            List<String> out = new ArrayList<>();
            Generation g = generation(512, out);
            ChatOutcome o = r.chat(ask("Tell me a long story about the desert"), g);
            assertEquals(FinishReason.LENGTH, o.finishReason(), "cut short, not finished: " + o.text());
            assertFalse(o.text().isEmpty());
            assertTrue(g.warnings().stream().anyMatch(w -> w.contains("cut short") && w.contains("server_timeout_ms")), g.warnings().toString());
        }
    }

    /** main.cpp@00d7aaf registerChat: a model error (a full context included) is an SSE chunk inside the 200 stream. */
    @Test
    void aModelErrorInsideTheStreamIsAContextOverflowWhenItSaysSo() throws Exception {
        try (AxllmServeRuntime r = runtime("Qwen3-1.7B", EmulatedWorkers.FAST, 0, Duration.ofMinutes(30), c -> { })) {
            r.start(Duration.ofSeconds(30));
            EmulatorControl.fault(r.base().getPort(), "context_full", 0);
            EngineException e = assertThrows(EngineException.class, () -> r.chat(ask("Hello"), generation(512, new ArrayList<>())));
            assertEquals(EngineException.Kind.CONTEXT_FULL, e.kind(), e.getMessage());
            assertTrue(e.getMessage().contains("context"), e.getMessage());
        }
    }

    /** The finish chunk carries no usage (encoder.hpp create_sse_finish); zeros, where a build sends them, are no counts. */
    @ParameterizedTest
    @ValueSource(strings = {"none", "zeros"})
    void usageIsTakenOnlyWhenTheRuntimeCountsAndZerosAreNotCounts(String usage) throws Exception {
        Map<String, String> env = new HashMap<>(EmulatedWorkers.FAST);
        env.put("AXFLEET_EMULATOR_AXLLM_STREAM_USAGE", usage);
        try (AxllmServeRuntime r = runtime("Qwen3-1.7B", env, 0, Duration.ofMinutes(30), c -> { })) {
            r.start(Duration.ofSeconds(30));
            ChatOutcome o = r.chat(ask("Hello"), generation(512, new ArrayList<>()));
            assertNull(o.usage(), "no counts from the runtime: the job loop estimates them and marks them estimated");
        }
    }

    /** prepend_config_system_prompt_if_missing: the model folder's persona when the job brings no system message. */
    @Test
    void aJobWithoutASystemMessageGetsTheModelFoldersSystemPrompt() throws Exception {
        try (AxllmServeRuntime r = runtime("Qwen3-1.7B", EmulatedWorkers.FAST, 0, Duration.ofMinutes(30),
                c -> c.addProperty("system_prompt", "You are the desert."))) {
            r.start(Duration.ofSeconds(30));
            int port = r.base().getPort();
            r.chat(ask("Hello"), generation(512, new ArrayList<>()));
            var prompts = EmulatorControl.stats(port).getAsJsonArray("prompts");
            assertTrue(prompts.get(prompts.size() - 1).getAsString().startsWith("<|im_start|>system\nYou are the desert.<|im_end|>\n"),
                    prompts.get(prompts.size() - 1).getAsString());
            r.chat(new ChatParams(List.of(ChatMessage.system("You are the coyote."), ChatMessage.user("Hello")), null, null, null, null, null,
                    null, null, null, null, false), generation(512, new ArrayList<>()));
            prompts = EmulatorControl.stats(port).getAsJsonArray("prompts");
            String seen = prompts.get(prompts.size() - 1).getAsString();
            assertTrue(seen.startsWith("<|im_start|>system\nYou are the coyote.") && !seen.contains("desert."), seen);
        }
    }

    /** seed is never read (SetRequestSamplingOverride takes temperature and top_p): not sent, and the result says so. */
    @Test
    void keysTheRuntimeDoesNotReadAreSaidInTheResult() throws Exception {
        try (AxllmServeRuntime r = runtime("Qwen3-1.7B", EmulatedWorkers.FAST, 0, Duration.ofMinutes(30), c -> { })) {
            r.start(Duration.ofSeconds(30));
            Generation one = generation(512, new ArrayList<>());
            ChatOutcome a = r.chat(new ChatParams(List.of(ChatMessage.user("Sing")), 0.7, null, null, null, null, 1L, 0.5, null, null, false), one);
            Generation two = generation(512, new ArrayList<>());
            ChatOutcome b = r.chat(new ChatParams(List.of(ChatMessage.user("Sing")), 0.7, null, null, null, null, 2L, null, null, null, false), two);
            assertEquals(a.text(), b.text(), "the seed changes nothing on this runtime");
            assertTrue(one.warnings().stream().anyMatch(w -> w.startsWith("seed not honoured")), one.warnings().toString());
            assertTrue(one.warnings().stream().anyMatch(w -> w.contains("presence_penalty")), one.warnings().toString());
            assertTrue(two.warnings().stream().noneMatch(w -> w.contains("presence_penalty")), two.warnings().toString());
        }
    }

    /** config.json's devices (and AXLLM_DEVICES) are indexes into the device list (axcl_manager.hpp): card 1 of one is refused. */
    @Test
    void theRuntimeIsStartedOnTheWorkersCard() throws Exception {
        try (AxllmServeRuntime r = runtime("Qwen3-1.7B", EmulatedWorkers.FAST, 1, Duration.ofMinutes(30), c -> { })) {
            RuntimeStartException e = assertThrows(RuntimeStartException.class, () -> r.start(Duration.ofSeconds(30)));
            assertTrue(e.getMessage().contains("Invalid AXCL device id 1, find total 1 device."), e.getMessage());
            JsonObject c = JsonParser.parseString(Files.readString(dir.resolve("state/axllm-model/config.json"))).getAsJsonObject();
            assertEquals("[1]", c.get("devices").toString());
        }
    }

    /**
     * A job cancelled before its first token leaves an answer the runtime may still be reading the prompt for: the next
     * request waits for it, bounded by the first-token limit once the runtime is silent, not by a whole answer's length.
     */
    @Test
    void anAnswerLeftBeforeItsFirstTokenHoldsTheNextRequestOnlyBriefly() throws Exception {
        try (AxllmServeRuntime r = runtime("Qwen3-1.7B", EmulatedWorkers.FAST, 0, Duration.ofMinutes(30), c -> { })) {
            r.start(Duration.ofSeconds(30));
            Generation gone = new Generation(List.of(), 512, piece -> { }, () -> true);
            r.chat(ask("Hello"), gone);
            long t0 = System.nanoTime();
            ChatOutcome next = r.chat(ask("Hello again"), generation(512, new ArrayList<>()));
            long seconds = (System.nanoTime() - t0) / 1_000_000_000L;
            assertEquals(FinishReason.STOP, next.finishReason());
            assertTrue(seconds < 20, "waited " + seconds + " s (the first-token limit here is 5 s), not a whole answer's worth");
        }
    }

    /**
     * In main.cpp@00d7aaf SIGINT stops the server loop but not a running generation, and SIGTERM has no handler (ax-llm PR
     * #66 later routes it through the SIGINT handler). A runtime whose answer was left mid-stream is stopped only once that
     * answer is over: no signal lands mid-answer, whichever build it is.
     */
    @ParameterizedTest
    @ValueSource(strings = {"revision-00d7aaf", "graceful"})
    void aRuntimeIsStoppedOnlyOnceTheAnswerItIsStillGeneratingIsOver(String sigterm) throws Exception {
        Map<String, String> env = new HashMap<>(Map.of("AXFLEET_EMULATOR_TIME_SCALE", "0.5", "AXFLEET_EMULATOR_AXLLM_SIGTERM", sigterm));
        Path model = EmulatedModel.writeModelDir(dir, "model", "Qwen2.5-0.5B-Instruct-GPTQ-Int4");
        AxllmServeRuntime.Config base = EmulatedWorkers.axllmRuntime(model, dir.resolve("state"), TestBroker.freePort(), env, 0,
                Duration.ofMinutes(30));
        // A stop grace far shorter than the answer: the old adapter's SIGINT, then SIGTERM 50 ms later, lands mid-answer.
        AxllmServeRuntime.Config quick = new AxllmServeRuntime.Config(base.command(), base.env(), base.port(), base.workDir(), base.stateDir(),
                Duration.ofMillis(50), base.loadGrace(), base.firstTokenTimeout(), base.stallTimeout(), base.probeInterval(), base.overlay());
        AxllmServeRuntime r = new AxllmServeRuntime(quick);
        r.start(Duration.ofSeconds(60));
        AtomicBoolean cancel = new AtomicBoolean();
        List<String> out = new ArrayList<>();
        Generation g = new Generation(List.of(), 512, piece -> {
            out.add(piece);
            cancel.set(true);
        }, cancel::get);
        r.chat(ask("Tell me a long story"), g);
        assertTrue(out.size() <= 2, "the job was cancelled after its first piece: " + out);
        r.close();
        String log = r.recentOutput();
        assertFalse(log.contains("in the middle of an answer"), "SIGTERM cut an answer:\n" + log);
        assertFalse(log.contains("arrived during an answer"), "a signal arrived during an answer:\n" + log);
        assertTrue(log.contains("LLM deinit"), "the runtime shut down cleanly:\n" + log);
    }
}
