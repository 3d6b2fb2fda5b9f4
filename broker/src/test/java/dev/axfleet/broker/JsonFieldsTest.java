package dev.axfleet.broker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.gson.JsonParseException;
import org.junit.jupiter.api.Test;

/** Bodies and payloads from outside are parsed once, strictly, with a bound on nesting. */
class JsonFieldsTest {
    static String nested(int levels) {
        return "{\"a\":".repeat(levels - 1) + "{}" + "}".repeat(levels - 1);
    }

    @Test
    void sixteenLevelsAreReadAndSeventeenAreRefused() {
        assertEquals(1, JsonFields.parseObject(nested(JsonFields.MAX_DEPTH)).size());
        JsonParseException e = assertThrows(JsonParseException.class, () -> JsonFields.parseObject(nested(JsonFields.MAX_DEPTH + 1)));
        assertEquals(true, e.getMessage().contains("Nesting limit"), e.getMessage());
    }

    @Test
    void bracketsInsideStringsAreNotNesting() {
        String text = "{\"a\":\"" + "[{".repeat(100) + "\"}";
        assertEquals("[{".repeat(100), JsonFields.parseObject(text).get("a").getAsString());
    }

    @Test
    void aHundredThousandOpenArraysCostNoStack() {
        assertThrows(JsonParseException.class, () -> JsonFields.parseObject("{\"a\":" + "[".repeat(100_000)));
    }

    @Test
    void onlyStrictObjectsPass() {
        assertThrows(JsonParseException.class, () -> JsonFields.parseObject("[1]"));
        assertThrows(JsonParseException.class, () -> JsonFields.parseObject("{a:1}"));
    }
}
