package dev.axfleet.emulator;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

/**
 * What the emulated model answers when its system prompt asks for JSON (docs/hardware.md A18: an emulated model's
 * behaviour, not the runtime's): one JSON object, made from the schema the prompt quotes when it quotes one, else
 * labelled as emulated; with the {@code BAD_JSON} fault, prose around an object left open, as a small model may write.
 */
final class EmulatedJson {
    private static final String SCHEMA_MARK = "JSON schema: ";

    private EmulatedJson() {
    }

    /** Whether the rendered prompt's system turn asks for JSON. */
    static boolean asked(String prompt) {
        int system = prompt.indexOf("<|im_start|>system\n");
        if (system < 0) {
            return false;
        }
        int end = prompt.indexOf("<|im_end|>", system);
        return prompt.substring(system, end < 0 ? prompt.length() : end).contains("JSON");
    }

    static String answer(String model, String prompt, boolean bad) {
        if (bad) {
            return "Sure! Here is the JSON: {\"emulated\": \"" + model + "\", \"answer\": [1, 2,";
        }
        int at = prompt.indexOf(SCHEMA_MARK);
        if (at >= 0) {
            int start = at + SCHEMA_MARK.length();
            int depth = 0;
            for (int i = start; i < prompt.length(); i++) {
                char c = prompt.charAt(i);
                depth += c == '{' ? 1 : c == '}' ? -1 : 0;
                if (depth == 0) {
                    try {
                        return EmulatedTools.value(JsonParser.parseString(prompt.substring(start, i + 1)), 0).toString();
                    } catch (RuntimeException e) {
                        break;
                    }
                }
            }
        }
        JsonObject o = new JsonObject();
        o.addProperty("emulated", model);
        o.addProperty("answer", "an emulated model's JSON");
        return o.toString();
    }
}
