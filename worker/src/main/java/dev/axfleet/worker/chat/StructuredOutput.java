package dev.axfleet.worker.chat;

import com.google.gson.JsonObject;
import com.networknt.schema.InputFormat;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import dev.axfleet.broker.JsonFields;
import dev.axfleet.broker.chat.ChatMessage;
import dev.axfleet.broker.chat.ChatParams;
import dev.axfleet.broker.chat.ResponseFormat;
import dev.axfleet.broker.chat.Tool;
import dev.axfleet.broker.chat.ToolChoice;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * JSON answers from a runtime that cannot constrain its sampling (axllm serve has no {@code response_format}, no grammar:
 * ../shared/more-kinds.md §B): asked for the strongest way the runtime allows, then validated, and asked again with the
 * validator's words. Validate-and-retry, not constrained decoding (docs/decisions.md).
 *
 * <ul>
 * <li>With a schema, on a model the runtime renders tools for: the schema is the parameters of one tool the model is
 *     told to call ({@code tool_choice} naming it), thinking off, no temperature or top_p (greedy: tool_calling.md's
 *     advice for small models). The call's arguments are the answer.</li>
 * <li>Otherwise (any JSON object, or a model without tools): a system instruction asking for one JSON object (quoting
 *     the schema when there is one), thinking off, greedy; the first balanced object of the text is the answer.</li>
 * </ul>
 */
final class StructuredOutput {
    /** Asks after the first: two more, each told what was wrong. */
    static final int RETRIES = 2;
    static final String ANSWER_TOOL = "answer";
    private static final SchemaRegistry REGISTRY = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12);

    private final ResponseFormat format;
    private final boolean viaTool;
    private final Schema schema;

    StructuredOutput(ResponseFormat format, boolean runtimeTakesTools) {
        this.format = format;
        this.viaTool = format.type() == ResponseFormat.Type.JSON_SCHEMA && runtimeTakesTools;
        this.schema = format.schema() == null ? null : REGISTRY.getSchema(format.schema().toString(), InputFormat.JSON);
    }

    boolean viaTool() {
        return viaTool;
    }

    String toolName() {
        return format.name() != null && Tool.NAME.matcher(format.name()).matches() ? format.name() : ANSWER_TOOL;
    }

    /** The job as sent to the runtime on the first try. */
    ChatParams firstAsk(ChatParams job) {
        if (viaTool) {
            Tool tool = new Tool(toolName(), "Give your answer as this function's arguments.", format.schema());
            return job.with(List.of(tool), ToolChoice.function(tool.name()), ResponseFormat.TEXT, null, null, false);
        }
        List<ChatMessage> messages = new ArrayList<>(job.messages());
        String instruction = "Answer with one JSON object and nothing else: no prose, no code fences."
                + (format.schema() == null ? "" : " It must be valid against this JSON schema: " + format.schema());
        messages.add(0, ChatMessage.system(instruction));
        return job.withMessages(messages).with(List.of(), ToolChoice.AUTO, ResponseFormat.TEXT, null, null, false);
    }

    /** The next try: the last one's answer and what was wrong with it, then the same request. */
    ChatParams again(ChatParams last, String answer, String problem) {
        List<ChatMessage> messages = new ArrayList<>(last.messages());
        messages.add(new ChatMessage(ChatMessage.ASSISTANT, answer));
        messages.add(ChatMessage.user("That answer is not valid: " + problem + ". Answer again with only the corrected JSON"
                + (viaTool ? ", as the arguments of " + toolName() : "") + "."));
        return last.withMessages(messages);
    }

    /** The JSON in a text answer: the first balanced object, or null. */
    static String extract(String text) {
        int start = text.indexOf('{');
        while (start >= 0) {
            int end = balancedEnd(text, start);
            if (end > 0) {
                return text.substring(start, end);
            }
            start = text.indexOf('{', start + 1);
        }
        return null;
    }

    private static int balancedEnd(String s, int start) {
        int depth = 0;
        boolean string = false;
        for (int i = start; i < s.length(); i++) {
            char c = s.charAt(i);
            if (string) {
                if (c == '\\') {
                    i++;
                } else if (c == '"') {
                    string = false;
                }
            } else if (c == '"') {
                string = true;
            } else if (c == '{' || c == '[') {
                depth++;
            } else if (c == '}' || c == ']') {
                depth--;
                if (depth == 0) {
                    return i + 1;
                }
            }
        }
        return -1;
    }

    /** What is wrong with {@code json} as the answer, or null when it is valid. */
    String problem(String json) {
        if (json == null) {
            return "it holds no JSON object";
        }
        JsonObject parsed;
        try {
            parsed = JsonFields.parseObject(json);
        } catch (RuntimeException e) {
            return "it is not a JSON object (" + e.getMessage().split("\n")[0] + ")";
        }
        if (schema == null) {
            return null;
        }
        List<String> errors = schema.validate(parsed.toString(), InputFormat.JSON).stream().map(Object::toString).limit(8)
                .collect(Collectors.toList());
        return errors.isEmpty() ? null : String.join("; ", errors);
    }

    /**
     * A conservative repair of a last answer: code fences off, trailing commas before a closing bracket dropped, open
     * strings and brackets closed. Null when nothing JSON-like is there.
     */
    static String repair(String text) {
        if (text == null) {
            return null;
        }
        String s = text.replaceAll("(?s)```(?:json)?", "").trim();
        int start = s.indexOf('{');
        if (start < 0) {
            return null;
        }
        s = s.substring(start).replaceAll(",\\s*([}\\]])", "$1");
        StringBuilder out = new StringBuilder(s);
        List<Character> open = new ArrayList<>();
        boolean string = false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (string) {
                if (c == '\\') {
                    i++;
                } else if (c == '"') {
                    string = false;
                }
            } else if (c == '"') {
                string = true;
            } else if (c == '{' || c == '[') {
                open.add(c);
            } else if ((c == '}' || c == ']') && !open.isEmpty()) {
                open.remove(open.size() - 1);
                if (open.isEmpty()) {
                    return s.substring(0, i + 1);
                }
            }
        }
        if (string) {
            out.append('"');
        }
        for (int i = open.size() - 1; i >= 0; i--) {
            out.append(open.get(i) == '{' ? '}' : ']');
        }
        return out.toString().replaceAll(",\\s*([}\\]])", "$1");
    }
}
