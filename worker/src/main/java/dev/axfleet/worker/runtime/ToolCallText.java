package dev.axfleet.worker.runtime;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.axfleet.broker.JsonFields;
import dev.axfleet.broker.chat.Tool;
import dev.axfleet.broker.chat.ToolCall;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * Tool calls that leak through as text. axllm serve parses Qwen3's {@code <tool_call>{"name":…,"arguments":{…}}</tool_call>}
 * itself and returns OpenAI {@code tool_calls} (AXERA-TECH/ax-llm:docs/tool_calling.md@0c74c77); a build that does not,
 * or a model that writes the block where the runtime does not look, leaves it in the text. This takes such blocks out of
 * the text as it streams (a tag split across pieces is held back until it is whole) and reads them as calls; a block that
 * is not a call of one of the job's tools (not JSON, no name, an unknown name, arguments that are not an object, no
 * closing tag) is kept whole as {@link #malformed()}, never half-read.
 */
final class ToolCallText {
    private static final String OPEN = "<tool_call>";
    private static final String CLOSE = "</tool_call>";

    private final List<Tool> tools;
    private final Predicate<String> downstream;
    private final StringBuilder held = new StringBuilder();
    private final List<ToolCall> calls = new ArrayList<>();
    private boolean inside;
    private String malformed;

    /** @param downstream where the text outside the blocks goes; false from it ends the answer */
    ToolCallText(List<Tool> tools, Predicate<String> downstream) {
        this.tools = tools;
        this.downstream = downstream;
    }

    /** One piece of the runtime's text; false when the answer has ended. */
    boolean accept(String piece) {
        held.append(piece);
        while (true) {
            if (!inside) {
                int open = held.indexOf(OPEN);
                if (open >= 0) {
                    String before = held.substring(0, open);
                    held.delete(0, open + OPEN.length());
                    inside = true;
                    if (!before.isEmpty() && !downstream.test(before)) {
                        return false;
                    }
                    continue;
                }
                int keep = partialTag(held);
                String out = held.substring(0, held.length() - keep);
                held.delete(0, held.length() - keep);
                return out.isEmpty() || downstream.test(out);
            }
            int close = held.indexOf(CLOSE);
            if (close < 0) {
                return true;
            }
            String body = held.substring(0, close);
            held.delete(0, close + CLOSE.length());
            inside = false;
            read(body);
        }
    }

    /** The answer ended: an open block is malformed; held text that was only a tag's start goes on as text. */
    boolean end() {
        if (inside) {
            malformedBlock(OPEN + held, "no " + CLOSE);
            held.setLength(0);
            return true;
        }
        String rest = held.toString();
        held.setLength(0);
        return rest.isEmpty() || downstream.test(rest);
    }

    List<ToolCall> calls() {
        return calls;
    }

    /** The first block that could not be read as a call, with why, or null. */
    String malformed() {
        return malformed;
    }

    private void read(String body) {
        JsonObject o;
        try {
            o = JsonFields.parseObject(body.trim());
        } catch (RuntimeException e) {
            malformedBlock(OPEN + body + CLOSE, "not a JSON object");
            return;
        }
        JsonElement name = o.get("name");
        if (name == null || !name.isJsonPrimitive() || tools.stream().noneMatch(t -> t.name().equals(name.getAsString()))) {
            malformedBlock(OPEN + body + CLOSE, name == null ? "no name" : "names no tool of this request: " + name);
            return;
        }
        JsonElement arguments = o.get("arguments");
        if (arguments != null && arguments.isJsonPrimitive() && arguments.getAsJsonPrimitive().isString()) {
            try {
                arguments = JsonFields.parseObject(arguments.getAsString());
            } catch (RuntimeException e) {
                arguments = null;
            }
        }
        if (arguments != null && !arguments.isJsonObject()) {
            malformedBlock(OPEN + body + CLOSE, "arguments are not a JSON object");
            return;
        }
        String n = name.getAsString();
        calls.add(new ToolCall("call_" + calls.size() + "_" + n, n, arguments == null ? "{}" : arguments.toString()));
    }

    private void malformedBlock(String text, String why) {
        if (malformed == null) {
            malformed = why + ": " + text;
        }
    }

    /** How many characters at the end of {@code s} could begin the open tag. */
    private static int partialTag(CharSequence s) {
        for (int n = Math.min(OPEN.length() - 1, s.length()); n > 0; n--) {
            if (OPEN.startsWith(s.subSequence(s.length() - n, s.length()).toString())) {
                return n;
            }
        }
        return 0;
    }
}
