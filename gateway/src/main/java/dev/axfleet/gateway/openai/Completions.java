package dev.axfleet.gateway.openai;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import dev.axfleet.broker.FieldException;
import dev.axfleet.broker.JobResult;
import dev.axfleet.broker.JsonFields;
import dev.axfleet.broker.chat.ChatMessage;
import dev.axfleet.broker.chat.ChatOutput;
import dev.axfleet.broker.chat.ChatParams;
import dev.axfleet.gateway.ApiException;
import dev.axfleet.gateway.Bodies;
import dev.axfleet.gateway.Caller;
import dev.axfleet.gateway.GatewayConfig;
import dev.axfleet.gateway.JobRunner;
import dev.axfleet.gateway.Json;
import dev.axfleet.gateway.RequestLog;
import dev.axfleet.gateway.ResponseStream;
import dev.axfleet.gateway.Urgency;
import java.io.IOException;
import java.util.List;
import spark.Request;
import spark.Response;

/**
 * OpenAI's legacy {@code POST /v1/completions} (openai/openai-openapi CreateCompletionRequest), which many tools still
 * call, onto the same chat jobs: the prompt is one user message (the card's runtime applies its chat template; it takes
 * no raw text), {@code max_tokens} defaults to 16 as OpenAI's does, and the answer comes back as
 * {@code text_completion} choices, plain or streamed. Refused by name: several prompts, token arrays, {@code n} or
 * {@code best_of} above 1, {@code echo}, {@code suffix} and {@code logprobs}.
 */
final class Completions {
    /** CreateCompletionRequest's {@code max_tokens} default. */
    static final int DEFAULT_MAX_TOKENS = 16;

    private final JobRunner runner;
    private final GatewayConfig config;

    Completions(JobRunner runner, GatewayConfig config) {
        this.runner = runner;
        this.config = config;
    }

    record Parsed(String model, ChatParams params, boolean stream, boolean includeUsage) {
    }

    static Parsed parse(JsonObject body) throws ApiException {
        try {
            JsonFields f = JsonFields.of(body);
            String model = f.optString("model", 1, 256);
            if (model == null) {
                throw new FieldException("model", "required");
            }
            JsonElement p = f.get("prompt");
            String prompt;
            if (p == null || p.isJsonNull()) {
                prompt = "";
            } else if (p.isJsonPrimitive() && p.getAsJsonPrimitive().isString()) {
                prompt = p.getAsString();
            } else if (p.isJsonArray() && p.getAsJsonArray().size() == 1 && p.getAsJsonArray().get(0).isJsonPrimitive()
                    && p.getAsJsonArray().get(0).getAsJsonPrimitive().isString()) {
                prompt = p.getAsJsonArray().get(0).getAsString();
            } else {
                throw new FieldException("prompt", "one prompt string is supported (not several, not token arrays): the card runs one answer at a time");
            }
            for (String key : List.of("n", "best_of")) {
                Integer n = f.optInt(key, 1, 128);
                if (n != null && n != 1) {
                    throw new FieldException(key, "only 1 is supported: the card runs one answer at a time");
                }
            }
            if (Boolean.TRUE.equals(f.optBool("echo"))) {
                throw new FieldException("echo", "echoing the prompt is not supported");
            }
            String suffix = f.optString("suffix", 0, Integer.MAX_VALUE);
            if (suffix != null && !suffix.isEmpty()) {
                throw new FieldException("suffix", "fill-in-the-middle is not supported by the card's runtime");
            }
            JsonElement logprobs = f.get("logprobs");
            if (logprobs != null && !logprobs.isJsonNull() && !(logprobs.isJsonPrimitive() && logprobs.getAsJsonPrimitive().isNumber()
                    && logprobs.getAsInt() == 0)) {
                throw new FieldException("logprobs", "log probabilities are not available from the card's runtime");
            }
            Integer maxTokens = f.optInt("max_tokens", ChatParams.MAX_TOKENS);
            boolean includeUsage = false;
            JsonElement options = f.get("stream_options");
            if (options != null && options.isJsonObject()) {
                includeUsage = Boolean.TRUE.equals(new JsonFields(options.getAsJsonObject(), "stream_options.").optBool("include_usage"));
            }
            ChatParams params = new ChatParams(List.of(ChatMessage.user(prompt)),
                    f.optDouble("temperature", ChatParams.TEMPERATURE), f.optDouble("top_p", ChatParams.TOP_P), null,
                    maxTokens == null ? DEFAULT_MAX_TOKENS : maxTokens,
                    f.optStringList("stop", ChatParams.MAX_STOP_SEQUENCES, ChatParams.MAX_STOP_LENGTH), f.optLong("seed"),
                    f.optDouble("presence_penalty", ChatParams.PENALTY), f.optDouble("frequency_penalty", ChatParams.PENALTY), null, false);
            return new Parsed(model, params, Boolean.TRUE.equals(f.optBool("stream")), includeUsage);
        } catch (FieldException e) {
            throw ApiException.badRequest(e.field(), e.getMessage());
        }
    }

    Object handle(Request request, Response response) {
        Parsed c;
        String model;
        try {
            JsonObject body = Bodies.json(request, config.maxBodyBytes());
            Urgency.of(request).read(body);
            c = parse(body);
            model = runner.chatModel(c.model(), c.params());
        } catch (ApiException e) {
            return OpenAiFacade.error(response, e);
        }
        if (!c.stream()) {
            try {
                JobResult r = runner.callShared(model, c.params(), request);
                JsonObject body = envelope(r.id(), model);
                body.add("choices", choice(r.chat().text(), r.chat().finishReason().wire()));
                body.add("usage", OpenAiFacade.usage(r.chat().usage()));
                return Json.respond(response, 200, body, JobRunner.resultHeaders(r));
            } catch (ApiException e) {
                return OpenAiFacade.error(response, e);
            }
        }
        ResponseStream sse = new ResponseStream(response.raw(), "text/event-stream");
        RequestLog requestLog = RequestLog.of(request);
        Caller caller = Caller.of(request);
        try {
            JobResult r = runner.stream(model, c.params(), new JobRunner.StreamSink() {
                @Override
                public void delta(String text) throws IOException {
                    JsonObject o = envelope(requestLog.jobId(), model);
                    o.add("choices", choice(text, null));
                    sse.write("data: " + o + "\n\n");
                }

                @Override
                public void thinking(String text) {
                    // Completions have no place for thinking; the job never asks for it.
                }

                @Override
                public void idle() throws IOException {
                    sse.write(": keep-alive\n\n");
                }

                @Override
                public boolean gone() {
                    return caller.gone();
                }
            }, requestLog);
            if (r != null) {
                ChatOutput out = r.chat();
                JsonObject last = envelope(r.id(), model);
                last.add("choices", choice("", out.finishReason().wire()));
                sse.write("data: " + last + "\n\n");
                if (c.includeUsage()) {
                    JsonObject u = envelope(r.id(), model);
                    u.add("choices", new JsonArray());
                    u.add("usage", OpenAiFacade.usage(out.usage()));
                    sse.write("data: " + u + "\n\n");
                }
                sse.write("data: [DONE]\n\n");
            }
        } catch (ApiException e) {
            if (!sse.started()) {
                return OpenAiFacade.error(response, e);
            }
            sse.writeQuietly("data: " + OpenAiFacade.errorBody(e) + "\n\n");
        } catch (IOException e) {
            // The caller left after the last piece; the job is finished.
        }
        return "";
    }

    private static JsonObject envelope(String id, String model) {
        JsonObject o = new JsonObject();
        o.addProperty("id", id.startsWith("cmpl-") ? id : "cmpl-" + id);
        o.addProperty("object", "text_completion");
        o.addProperty("created", System.currentTimeMillis() / 1000);
        o.addProperty("model", model);
        return o;
    }

    private static JsonArray choice(String text, String finish) {
        JsonObject c = new JsonObject();
        c.addProperty("text", text);
        c.addProperty("index", 0);
        c.add("logprobs", JsonNull.INSTANCE);
        c.add("finish_reason", finish == null ? JsonNull.INSTANCE : new com.google.gson.JsonPrimitive(finish));
        JsonArray a = new JsonArray();
        a.add(c);
        return a;
    }
}
