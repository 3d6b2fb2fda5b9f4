package dev.axfleet.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.net.http.HttpResponse;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The Ollama facade through the whole fleet, with the calls the installations make (../shared/clients.md §5:
 * the coyote's /api/chat payload and its AX650-mode /api/generate), over plain HTTP.
 */
abstract class OllamaSuite extends FleetSuite {
    /** The coyote's Ollama call, with a persona and a short history. */
    static String coyote(boolean stream, String lastQuestion) {
        return "{\"model\":\"" + MODEL + "\",\"think\":false,\"keep_alive\":-1,\"stream\":" + stream + ","
                + "\"options\":{\"temperature\":0.99,\"top_k\":85,\"top_p\":0.9,\"num_ctx\":1024,\"repeat_last_n\":64,"
                + "\"repeat_penalty\":1.5,\"num_predict\":100,\"stop\":[\"#\",\"[\"]},"
                + "\"messages\":[{\"role\":\"system\",\"content\":\"You are a talking coyote in a museum.\"},"
                + "{\"role\":\"user\",\"content\":\"Who are you?\"},{\"role\":\"assistant\",\"content\":\"A coyote of the red rocks.\"},"
                + "{\"role\":\"user\",\"content\":\"" + lastQuestion + "\"}]}";
    }

    @Test
    void theCoyotesOllamaChatGetsOneObjectWithMessageContent() throws Exception {
        HttpResponse<String> r = post("/api/chat", coyote(false, "What do you hear tonight?"));
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("application/json", r.headers().firstValue("Content-Type").orElse(""));
        JsonObject o = JsonParser.parseString(r.body()).getAsJsonObject();
        assertTrue(o.getAsJsonObject("message").get("content").getAsString().startsWith("(emulated Qwen3-1.7B)"), r.body());
        assertEquals("assistant", o.getAsJsonObject("message").get("role").getAsString());
        assertTrue(o.get("done").getAsBoolean());
        assertTrue(List.of("stop", "length").contains(o.get("done_reason").getAsString()));
        assertTrue(o.get("eval_count").getAsInt() <= 100, "num_predict bounds the answer");
        assertTrue(o.get("prompt_eval_count").getAsInt() > 0);
        assertTrue(o.get("total_duration").getAsLong() > 1_000_000, "durations are nanoseconds");
        assertTrue(o.get("eval_duration").getAsLong() >= 0 && o.get("prompt_eval_duration").getAsLong() > 0);
    }

    @Test
    void aStreamedChatIsNdjsonEndingInDoneAndSaysTheSame() throws Exception {
        String plain = JsonParser.parseString(post("/api/chat", coyote(false, "Sing to me")).body()).getAsJsonObject()
                .getAsJsonObject("message").get("content").getAsString();
        HttpResponse<String> r = post("/api/chat", coyote(true, "Sing to me"));
        assertEquals(200, r.statusCode());
        assertEquals("application/x-ndjson", r.headers().firstValue("Content-Type").orElse("").split(";")[0]);
        List<JsonObject> lines = r.body().lines().map(l -> JsonParser.parseString(l).getAsJsonObject()).toList();
        StringBuilder streamed = new StringBuilder();
        lines.forEach(l -> streamed.append(l.getAsJsonObject("message").get("content").getAsString()));
        JsonObject last = lines.get(lines.size() - 1);
        assertTrue(last.get("done").getAsBoolean());
        assertEquals("", last.getAsJsonObject("message").get("content").getAsString());
        lines.subList(0, lines.size() - 1).forEach(l -> assertFalse(l.get("done").getAsBoolean()));
        assertEquals(plain, streamed.toString());
    }

    @Test
    void theCoyotesAx650ModeGenerateGetsAResponse() throws Exception {
        HttpResponse<String> r = post("/api/generate", "{\"model\":\"" + MODEL + "\",\"prompt\":\"Hello coyote\",\"stream\":false}");
        assertEquals(200, r.statusCode(), r.body());
        JsonObject o = JsonParser.parseString(r.body()).getAsJsonObject();
        assertTrue(o.get("response").getAsString().startsWith("(emulated"));
        assertTrue(o.get("done").getAsBoolean());
        HttpResponse<String> s = post("/api/generate", "{\"model\":\"" + MODEL + ":latest\",\"prompt\":\"Hello coyote\"}");
        assertEquals(200, s.statusCode(), "streams by default, and takes the :latest tag");
        StringBuilder streamed = new StringBuilder();
        s.body().lines().forEach(l -> streamed.append(JsonParser.parseString(l).getAsJsonObject().get("response").getAsString()));
        assertEquals(o.get("response").getAsString(), streamed.toString());
    }

    @Test
    void theStopMarkersEndTheAnswerBeforeThem() throws Exception {
        // Find a question whose free answer has a marker, then ask it with the coyote's stops.
        for (int i = 0; i < 60; i++) {
            String question = "Tell me about night number " + i;
            String free = answer(coyote(false, question).replace(",\"stop\":[\"#\",\"[\"]", ""));
            int marker = firstOf(free, "#", "[");
            if (marker < 0) {
                continue;
            }
            String stopped = answer(coyote(false, question));
            assertEquals(free.substring(0, marker), stopped, "the text before the first marker, as Ollama does");
            assertEquals(-1, firstOf(stopped, "#", "["));
            return;
        }
        throw new AssertionError("no emulated answer in 60 contained # or [");
    }

    @Test
    void modelListsAndVersionAnswerAsOllamaDoes() throws Exception {
        JsonArray tags = JsonParser.parseString(get("/api/tags").body()).getAsJsonObject().getAsJsonArray("models");
        assertEquals(MODEL + ":latest", tags.get(0).getAsJsonObject().get("name").getAsString());
        assertEquals("1.7B", tags.get(0).getAsJsonObject().getAsJsonObject("details").get("parameter_size").getAsString());
        JsonArray ps = JsonParser.parseString(get("/api/ps").body()).getAsJsonObject().getAsJsonArray("models");
        JsonObject loaded = null;
        for (var m : ps) {
            if (m.getAsJsonObject().get("name").getAsString().equals(MODEL + ":latest")) {
                loaded = m.getAsJsonObject(); // listed the longest to live first, as Ollama does: not always first
            }
        }
        assertNotNull(loaded, ps.toString());
        assertEquals(2047, loaded.get("context_length").getAsInt(), "the context the runtime logged");
        assertNotNull(loaded.get("expires_at"));
        JsonObject show = JsonParser.parseString(post("/api/show", "{\"model\":\"" + MODEL + "\"}").body()).getAsJsonObject();
        assertTrue(show.get("modelfile").getAsString().contains("EMULATED"));
        assertEquals(2047, show.getAsJsonObject("model_info").get("qwen3.context_length").getAsInt());
        assertTrue(JsonParser.parseString(get("/api/version").body()).getAsJsonObject().has("version"));
        assertEquals("Ollama is running", get("/").body());
    }

    @Test
    void errorsAreOllamaShapedWithItsStatusCodes() throws Exception {
        HttpResponse<String> missing = post("/api/chat", "{\"model\":\"llama3\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
        assertEquals(404, missing.statusCode());
        String error = JsonParser.parseString(missing.body()).getAsJsonObject().get("error").getAsString();
        assertTrue(error.startsWith("model \"llama3\" not found") && error.contains(MODEL), error);
        for (String bad : List.of("{\"messages\":[]}", "{\"model\":\"" + MODEL + "\",\"format\":\"yaml\",\"prompt\":\"x\"}",
                "{\"model\":\"" + MODEL + "\",\"options\":{\"temperature\":\"hot\"},\"prompt\":\"x\"}", "not json")) {
            HttpResponse<String> r = post("/api/generate", bad);
            assertEquals(400, r.statusCode(), bad);
            assertTrue(JsonParser.parseString(r.body()).getAsJsonObject().has("error"), r.body());
        }
    }

    @Test
    void anEmptyPromptLoadsAsOllamaDoes() throws Exception {
        JsonObject o = JsonParser.parseString(post("/api/generate", "{\"model\":\"" + MODEL + "\",\"keep_alive\":\"5m\"}").body()).getAsJsonObject();
        assertEquals("load", o.get("done_reason").getAsString());
    }

    private static String answer(String body) throws Exception {
        HttpResponse<String> r = post("/api/chat", body);
        assertEquals(200, r.statusCode(), r.body());
        return JsonParser.parseString(r.body()).getAsJsonObject().getAsJsonObject("message").get("content").getAsString();
    }

    private static int firstOf(String text, String... markers) {
        int best = -1;
        for (String m : markers) {
            int i = text.indexOf(m);
            if (i >= 0 && (best < 0 || i < best)) {
                best = i;
            }
        }
        return best;
    }
}
