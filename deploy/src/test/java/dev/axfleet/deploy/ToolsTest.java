package dev.axfleet.deploy;

import static dev.axfleet.deploy.TestFleets.json;
import static dev.axfleet.deploy.TestFleets.node;
import static dev.axfleet.deploy.TestFleets.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.axfleet.broker.testing.TestBroker;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tools, JSON answers and legacy completions through the whole fleet (emulated), with the official openai and ollama
 * JavaScript clients unchanged: a tool round trip plain and streamed, a JSON schema answer that validates, Ollama's
 * tools and format, /v1/completions, and the refusals in each facade's shape. A Qwen3 model takes tools; MiniCPM4's
 * family is one the runtime renders no tools for.
 */
class ToolsTest {
    static final String MODEL = "qwen3-0.6b";
    static final String PLAIN = "minicpm4-0.5b";
    @TempDir
    static Path dir;
    static EmulatedFleet running;
    static TestBroker broker;
    static String base;

    @BeforeAll
    static void start() throws Exception {
        running = EmulatedFleet.start(dir, Map.of(
                "fleet.models", MODEL + "=Qwen3-0.6B," + PLAIN + "=MiniCPM4-0.5B",
                "fleet.image_model", ""));
        broker = running.broker;
        base = running.base;
    }

    @AfterAll
    static void stop() {
        if (running != null) {
            running.close();
        }
    }

    @Test
    void theOfficialClientsCallToolsGetJsonAndCompletionsAndTheirRefusals() throws Exception {
        JsonObject o = json(run(node(), "tools-clients.mjs", base, MODEL, PLAIN));
        JsonObject first = o.getAsJsonObject("first");
        assertEquals("tool_calls", first.get("finish").getAsString());
        assertTrue(first.get("content").isJsonNull(), o.toString());
        JsonObject fn = first.getAsJsonObject("call").getAsJsonObject("function");
        assertEquals("get_weather", fn.get("name").getAsString());
        assertEquals("emulated", JsonParser.parseString(fn.get("arguments").getAsString()).getAsJsonObject().get("city").getAsString(),
                "OpenAI's arguments are a JSON string");
        assertEquals("stop", o.getAsJsonObject("second").get("finish").getAsString());
        assertTrue(o.getAsJsonObject("second").get("content").getAsString().contains("The tool answered: {\"temperature\":\"-3C\""), o.toString());
        JsonObject streamed = o.getAsJsonObject("streamed");
        assertEquals("tool_calls", streamed.get("finish").getAsString());
        assertEquals(0, streamed.getAsJsonArray("calls").get(0).getAsJsonObject().get("index").getAsInt(), "streamed deltas carry index");

        JsonObject animal = JsonParser.parseString(o.get("structured").getAsString()).getAsJsonObject();
        assertEquals(2, animal.size());
        assertTrue(animal.get("legs").getAsJsonPrimitive().isNumber());
        assertEquals(o.get("structured").getAsString(), o.get("streamedJson").getAsString(), "streamed: the validated JSON once");
        assertTrue(JsonParser.parseString(o.get("jsonObject").getAsString()).isJsonObject());

        JsonObject completion = o.getAsJsonObject("completion");
        assertEquals("text_completion", completion.get("object").getAsString());
        assertTrue(completion.get("text").getAsString().startsWith("(emulated Qwen3-0.6B)"), o.toString());
        assertEquals("length", completion.get("finish").getAsString(), "max_tokens 8");
        assertEquals(completion.get("text").getAsString(), o.get("streamedCompletion").getAsString());

        JsonObject ollamaFn = o.getAsJsonArray("ollamaCall").get(0).getAsJsonObject().getAsJsonObject("function");
        assertEquals("emulated", ollamaFn.getAsJsonObject("arguments").get("city").getAsString(), "Ollama's arguments are an object");
        assertTrue(o.get("ollamaAnswer").getAsString().contains("The tool answered: sunny, 21C"), o.toString());
        assertEquals(2, JsonParser.parseString(o.get("ollamaFormat").getAsString()).getAsJsonObject().size());
        assertTrue(JsonParser.parseString(o.get("ollamaJson").getAsString()).isJsonObject());
        assertTrue(o.getAsJsonArray("toolsCapabilities").toString().contains("\"tools\""), o.toString());
        assertTrue(!o.getAsJsonArray("plainCapabilities").toString().contains("tools"), o.toString());

        refused(o, "notASchema", 400, "not a JSON schema");
        refused(o, "toolWithoutName", 400, "name");
        refused(o, "toolMessageWithoutCall", 400, "no earlier assistant message called");
        refused(o, "toolsToPlainModel", 400, "takes no tools");
        refused(o, "ollamaNotASchema", 400, "not a JSON schema");
        refused(o, "ollamaToolsToPlainModel", 400, "takes no tools");
        refused(o, "severalPrompts", 400, "one prompt");
    }

    static void refused(JsonObject o, String what, int status, String says) {
        JsonObject r = o.getAsJsonObject(what);
        assertEquals(status, r.get("status").getAsInt(), what + ": " + r);
        assertTrue(r.get("message").getAsString().contains(says), what + ": " + r);
    }
}
