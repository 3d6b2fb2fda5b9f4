package dev.axfleet.deploy.doctor;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.axfleet.broker.Job;
import dev.axfleet.broker.chat.ChatMessage;
import dev.axfleet.broker.chat.ChatOutput;
import dev.axfleet.broker.chat.ChatParams;
import dev.axfleet.broker.chat.FinishReason;
import dev.axfleet.broker.chat.Part;
import dev.axfleet.broker.chat.ResponseFormat;
import dev.axfleet.broker.chat.Tool;
import dev.axfleet.broker.chat.ToolCall;
import dev.axfleet.broker.chat.ToolChoice;
import dev.axfleet.deploy.doctor.Check.Need;
import dev.axfleet.worker.JobFailure;
import dev.axfleet.worker.RunContext;
import dev.axfleet.worker.runtime.AxllmServeRuntime;
import dev.axfleet.worker.runtime.ChatOutcome;
import dev.axfleet.worker.runtime.EngineException;
import dev.axfleet.worker.runtime.Generation;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Tool calls and JSON answers on the chat model's {@code axllm serve} (docs/hardware.md U29, F41): on the wire as
 * docs/tool_calling.md@0c74c77 shows them ({@code message.tool_calls}, {@code finish_reason} "tool_calls", the streamed
 * {@code delta.tool_calls} chunk), then through the worker's adapter (a call, and the tool's answer fed back) and the
 * worker's chat runner (a {@code response_format} json_schema answer by validate-and-retry, {@code StructuredOutput}).
 */
final class ToolChecks {
    /** The call the wire is asked for ten times: how often it is right (docs/hardware.md U29). */
    static final int TRIES = 10;
    static final String TOOL = "get_weather";
    static final String ASK = "Weather in Oslo?";
    static final String WEATHER = "-3C, snow";
    static final String CALL_ID = "call_0_" + TOOL;
    /** What main.cpp@00d7aaf's handle_api_messages answers for a {@code tool} role or a null content (F41). */
    static final String REFUSED = "Failed to parse chat messages.";
    private static final Pattern TRIED = Pattern.compile("JSON valid after (\\d+) tries");

    private ToolChecks() {
    }

    static List<Check> all() {
        return List.of(Check.of("U29", "tool calls and a JSON answer", Duration.ofMinutes(8), Set.of(Need.CARD_ALONE), List.of("F41", "A18"),
                ToolChecks::toolsAndJson));
    }

    static JsonObject parameters() {
        return JsonParser.parseString("{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}},\"required\":[\"city\"]}")
                .getAsJsonObject();
    }

    static JsonObject schema() {
        return JsonParser.parseString("{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\"},\"legs\":{\"type\":\"integer\","
                + "\"minimum\":0}},\"required\":[\"name\",\"legs\"],\"additionalProperties\":false}").getAsJsonObject();
    }

    /** The request of hardware.md's curl, thinking off as the worker always sends it. */
    static JsonObject request(String model, boolean stream, String toolChoice) {
        JsonObject o = AxllmChecks.request(model, ASK, 64, stream);
        o.addProperty("enable_thinking", false);
        JsonObject fn = new JsonObject();
        fn.addProperty("name", TOOL);
        fn.addProperty("description", "The weather in a city");
        fn.add("parameters", parameters());
        JsonObject tool = new JsonObject();
        tool.addProperty("type", "function");
        tool.add("function", fn);
        JsonArray tools = new JsonArray();
        tools.add(tool);
        o.add("tools", tools);
        if (toolChoice != null) {
            o.addProperty("tool_choice", toolChoice);
        }
        return o;
    }

    static ChatParams ask(List<ChatMessage> messages, int maxTokens) {
        return new ChatParams(messages, null, null, null, maxTokens, List.of(), null, null, null, null, false,
                List.of(new Tool(TOOL, "The weather in a city", parameters())), ToolChoice.AUTO, ResponseFormat.TEXT);
    }

    static Verdict toolsAndJson(Lab lab) throws Exception {
        AxllmServeRuntime r = lab.chat(false);
        String model = AxllmChecks.model(r);
        int port = r.base().getPort();
        List<String> off = new ArrayList<>();
        List<String> seen = new ArrayList<>();

        // 1. The wire, not streamed, ten times: message.tool_calls, finish_reason, content, a call left in the text.
        int right = 0;
        int oslo = 0;
        int leaked = 0;
        int text = 0;
        List<String> finishes = new ArrayList<>();
        for (int i = 0; i < TRIES; i++) {
            Sse.Reply p = Sse.post(port, "/v1/chat/completions", request(model, false, null), Duration.ofSeconds(120), 0);
            if (i == 0) {
                lab.note("not streamed, try 1: HTTP " + p.status() + " " + oneLine(p.body(), 500));
            }
            JsonObject choice = firstChoice(p.body());
            JsonObject message = choice == null || !choice.has("message") || !choice.get("message").isJsonObject() ? null
                    : choice.getAsJsonObject("message");
            if (message == null) {
                off.add("try " + (i + 1) + ": HTTP " + p.status() + " without a chat.completion: " + oneLine(p.body(), 200));
                break;
            }
            String content = message.has("content") && !message.get("content").isJsonNull() ? message.get("content").getAsString() : null;
            String finish = choice.has("finish_reason") && !choice.get("finish_reason").isJsonNull() ? choice.get("finish_reason").getAsString() : null;
            JsonArray calls = message.has("tool_calls") && message.get("tool_calls").isJsonArray() ? message.getAsJsonArray("tool_calls") : new JsonArray();
            boolean inText = content != null && content.contains("<tool_call>");
            leaked += inText ? 1 : 0;
            if (calls.isEmpty()) {
                text += inText ? 0 : 1;
                lab.note("try " + (i + 1) + ": no tool_calls, finish_reason " + finish + ", content " + oneLine(content, 160));
                continue;
            }
            finishes.add(finish);
            String city = city(calls.get(0));
            if (city != null) {
                right++;
                oslo += city.toLowerCase(Locale.ROOT).contains("oslo") ? 1 : 0;
            }
            lab.note("try " + (i + 1) + ": tool_calls " + oneLine(calls.toString(), 200) + ", finish_reason " + finish + ", content "
                    + (content == null ? "null" : "\"" + oneLine(content, 80) + "\""));
        }
        seen.add("not streamed, " + TRIES + " tries: " + right + " right calls of " + TOOL + " (" + oslo + " with Oslo), " + leaked
                + " left a <tool_call> in content, " + text + " answered in text");
        if (right == 0 && leaked == 0) {
            off.add("no try came back with message.tool_calls: this build ignores tools (main.cpp@00d7aaf has none, F41), or the model "
                    + "answered in text each time");
        }
        if (finishes.stream().anyMatch(f -> !"tool_calls".equals(f))) {
            off.add("finish_reason beside tool_calls: " + finishes + " (F41: \"tool_calls\")");
        }
        if (leaked > 0) {
            off.add(leaked + " of " + TRIES + " answers left the call in content as a <tool_call> block (the worker's ToolCallText reads "
                    + "one, but F41 says the runtime parses them into tool_calls)");
        }

        // 2. The wire, streamed (tool_choice required, the documented way to force a call): the chunk's shape.
        Sse.Reply s = Sse.post(port, "/v1/chat/completions", request(model, true, "required"), Duration.ofSeconds(120), 0);
        for (int i = 0; i < s.data().size(); i++) {
            if (i < 8 || i >= s.data().size() - 3) {
                lab.note("streamed: data: " + oneLine(s.data().get(i).toString(), 400));
            } else if (i == 8) {
                lab.note("streamed: ... " + (s.data().size() - 11) + " chunks more");
            }
        }
        JsonObject callChunk = null;
        for (JsonObject d : s.data()) {
            if (deltaCalls(d) != null) {
                callChunk = d;
                break;
            }
        }
        JsonObject last = s.last();
        if (callChunk == null) {
            off.add("streamed, no chunk carried delta.tool_calls (" + s.contents().size() + " content chunks"
                    + (String.join("", s.contents()).contains("<tool_call>") ? ", the call among them as text" : "") + ")");
        } else {
            JsonObject first = deltaCalls(callChunk).get(0).getAsJsonObject();
            seen.add("streamed: one delta.tool_calls chunk " + (first.has("index") ? "with index " + first.get("index") : "WITHOUT index")
                    + " (A18 assumes index 0; the adapter reads both), then finish_reason " + (last == null ? "-" : Sse.finishReason(last)));
            if (last == null || !"tool_calls".equals(Sse.finishReason(last)) || !s.done()) {
                off.add("streamed, the call is not followed by a finish chunk with finish_reason \"tool_calls\" and [DONE]: last " + last);
            }
        }

        // 3. The worker's adapter: the call, then the tool's answer fed back.
        Generation g = new Generation(List.of(), 64, x -> { }, () -> false);
        ChatOutcome called = r.chat(ask(List.of(ChatMessage.user(ASK)), 64), g);
        lab.note("the adapter: finish " + called.finishReason() + ", calls " + called.toolCalls() + ", text " + oneLine(called.text(), 160));
        if (called.toolCalls().isEmpty() || called.finishReason() != FinishReason.TOOL_CALLS || called.malformedToolCall() != null) {
            off.add("through the worker's adapter: finish " + called.finishReason().name().toLowerCase(Locale.ROOT) + ", " + called.toolCalls().size()
                    + " calls" + (called.malformedToolCall() == null ? "" : ", malformed: " + called.malformedToolCall()));
        }
        List<ChatMessage> history = List.of(ChatMessage.user(ASK),
                new ChatMessage(ChatMessage.ASSISTANT, List.of(new Part.Text("")), List.of(new ToolCall(CALL_ID, TOOL, "{\"city\":\"Oslo\"}")), null),
                new ChatMessage(ChatMessage.TOOL, List.of(new Part.Text(WEATHER)), List.of(), CALL_ID));
        try {
            ChatOutcome answer = r.chat(ask(history, 96), new Generation(List.of(), 96, x -> { }, () -> false));
            lab.note("after the tool's answer \"" + WEATHER + "\": " + oneLine(answer.text(), 300));
            if (!answer.text().toLowerCase(Locale.ROOT).contains("snow")) {
                off.add("the answer after the tool's \"" + WEATHER + "\" does not use it: " + oneLine(answer.text(), 160));
            } else {
                seen.add("the tool's answer fed back is used (\"" + oneLine(answer.text(), 80) + "\")");
            }
        } catch (EngineException e) {
            lab.note("after the tool's answer: " + e.getMessage());
            off.add(e.getMessage().contains(REFUSED) ? "the tool turn was refused with \"" + REFUSED + "\": this build's handle_api_messages "
                    + "takes no tool role (main.cpp@00d7aaf, F41): tools need a build with docs/tool_calling.md (record `axllm version`)"
                    : "the tool turn failed: " + e.getMessage());
        }

        // 4. A JSON answer through the worker's chat runner (StructuredOutput: a forced tool, validated, asked again).
        List<String> warnings = new ArrayList<>();
        ChatParams json = new ChatParams(List.of(ChatMessage.user("Describe a coyote: its name and how many legs it has.")), null, null, null,
                128, List.of(), null, null, null, null, false, List.of(), ToolChoice.AUTO, ResponseFormat.schema(schema(), "animal", true));
        try {
            ChatOutput out = (ChatOutput) lab.chatRunner(r).run(new Job("doctor-json", lab.target().chatModel(), json, "doctor", null, Instant.now(),
                    null, false), context(warnings));
            int tries = 1;
            for (String w : warnings) {
                Matcher m = TRIED.matcher(w);
                if (m.find()) {
                    tries = Integer.parseInt(m.group(1));
                }
            }
            lab.note("response_format json_schema: " + oneLine(out.text(), 300) + (warnings.isEmpty() ? "" : "; warnings " + warnings));
            String problem = animalProblem(out.text());
            if (problem != null) {
                off.add("the JSON answer the runner passed is not valid for its schema: " + problem + ": " + oneLine(out.text(), 160));
            } else {
                seen.add("a json_schema answer valid after " + tries + (tries == 1 ? " try" : " tries")
                        + (warnings.stream().anyMatch(w -> w.contains("repaired")) ? " (repaired)" : ""));
            }
        } catch (JobFailure f) {
            lab.note("response_format json_schema: " + f.error());
            off.add("no valid JSON answer: " + f.error().code().name().toLowerCase(Locale.ROOT) + ": " + f.error().message());
        } catch (EngineException e) {
            off.add("the JSON answer failed (" + e.kind().name().toLowerCase(Locale.ROOT) + "): " + e.getMessage());
        }
        String all = String.join("; ", seen);
        return off.isEmpty() ? Verdict.verified(all) : Verdict.differs(String.join("; ", off) + (all.isEmpty() ? "" : "; " + all));
    }

    /** The city of a {@code get_weather} call whose arguments are a JSON object with a string {@code city}, or null. */
    private static String city(JsonElement call) {
        try {
            JsonObject fn = call.getAsJsonObject().getAsJsonObject("function");
            if (!TOOL.equals(fn.get("name").getAsString())) {
                return null;
            }
            JsonElement args = JsonParser.parseString(fn.get("arguments").getAsString());
            JsonElement city = args.isJsonObject() ? args.getAsJsonObject().get("city") : null;
            return city != null && city.isJsonPrimitive() && city.getAsJsonPrimitive().isString() ? city.getAsString() : null;
        } catch (RuntimeException e) {
            return null;
        }
    }

    private static JsonArray deltaCalls(JsonObject chunk) {
        try {
            JsonElement d = chunk.getAsJsonArray("choices").get(0).getAsJsonObject().get("delta");
            JsonElement tc = d == null || !d.isJsonObject() ? null : d.getAsJsonObject().get("tool_calls");
            return tc != null && tc.isJsonArray() && !tc.getAsJsonArray().isEmpty() ? tc.getAsJsonArray() : null;
        } catch (RuntimeException e) {
            return null;
        }
    }

    private static JsonObject firstChoice(String body) {
        try {
            JsonArray choices = JsonParser.parseString(body).getAsJsonObject().getAsJsonArray("choices");
            return choices == null || choices.isEmpty() ? null : choices.get(0).getAsJsonObject();
        } catch (RuntimeException e) {
            return null;
        }
    }

    /** Checked here too, not only by the runner: a name string and a whole number of legs, nothing else. */
    private static String animalProblem(String json) {
        try {
            JsonObject o = JsonParser.parseString(json).getAsJsonObject();
            if (!o.has("name") || !o.get("name").isJsonPrimitive() || !o.get("name").getAsJsonPrimitive().isString()) {
                return "no string name";
            }
            if (!o.has("legs") || !o.get("legs").isJsonPrimitive() || !o.get("legs").getAsJsonPrimitive().isNumber()
                    || o.get("legs").getAsDouble() != Math.rint(o.get("legs").getAsDouble()) || o.get("legs").getAsDouble() < 0) {
                return "legs is not a whole number from 0";
            }
            return o.size() == 2 ? null : "keys beside name and legs";
        } catch (RuntimeException e) {
            return "not a JSON object";
        }
    }

    private static RunContext context(List<String> warnings) {
        return new RunContext() {
            @Override
            public void delta(String text, boolean thinking) {
            }

            @Override
            public void progress(int done, int total) {
            }

            @Override
            public boolean cancelled() {
                return false;
            }

            @Override
            public boolean streamed() {
                return false;
            }

            @Override
            public void warn(String warning) {
                warnings.add(warning);
            }

            @Override
            public int audio(byte[] audio, boolean last, int maxMessageBytes) {
                return 0; // a chat answer has no audio
            }
        };
    }

    static String oneLine(String text, int max) {
        return text == null ? "null" : dev.axfleet.monitor.probe.Tool.oneLine(text, max);
    }
}
