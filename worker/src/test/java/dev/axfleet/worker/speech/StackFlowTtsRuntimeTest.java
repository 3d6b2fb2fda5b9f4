package dev.axfleet.worker.speech;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import org.junit.jupiter.api.Test;

/** Requests llm-sys can frame: no brace inside a string, the same text once parsed. */
class StackFlowTtsRuntimeTest {
    @Test
    void bracesInTextAreEscapedAndTheTextSurvives() {
        String text = "Say {hello} to \"the\" den \\ } { now";
        String json = StackFlowTtsRuntime.escapeBraces(new JsonPrimitive(text));
        String inside = json.substring(1, json.length() - 1);
        assertFalse(inside.contains("{") || inside.contains("}"), json);
        assertEquals(text, JsonParser.parseString(json).getAsString());
        JsonObject o = new JsonObject();
        o.addProperty("model", "melotts-en-default-axcl");
        String object = StackFlowTtsRuntime.escapeBraces(o);
        assertEquals('{', object.charAt(0), "structural braces stay");
    }
}
