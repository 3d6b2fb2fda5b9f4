package dev.axfleet.gateway.openai;

import com.google.gson.JsonArray;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import dev.axfleet.broker.JobResult;
import dev.axfleet.broker.Kind;
import dev.axfleet.broker.chat.ChatOutput;
import dev.axfleet.broker.Usage;
import dev.axfleet.gateway.ApiException;
import dev.axfleet.gateway.Bodies;
import dev.axfleet.gateway.Caller;
import dev.axfleet.gateway.GatewayConfig;
import dev.axfleet.gateway.JobRunner;
import dev.axfleet.gateway.Json;
import dev.axfleet.gateway.ModelRegistry;
import dev.axfleet.gateway.RequestLog;
import dev.axfleet.gateway.ResponseStream;
import dev.axfleet.gateway.Urgency;
import java.io.IOException;
import spark.Request;
import spark.Response;
import spark.Service;

/**
 * The OpenAI facade: {@code POST /v1/chat/completions} (plain and SSE) and {@code GET /v1/models}, in the
 * shapes of openai/openai-openapi (../shared/anchors.md §1a). A translator only: request to job, result to
 * response.
 */
public final class OpenAiFacade {
    private final JobRunner runner;
    private final ModelRegistry registry;
    private final GatewayConfig config;

    public OpenAiFacade(JobRunner runner, ModelRegistry registry, GatewayConfig config) {
        this.runner = runner;
        this.registry = registry;
        this.config = config;
    }

    public void register(Service http) {
        http.post("/v1/chat/completions", this::chatCompletions);
        Completions completions = new Completions(runner, config);
        http.post("/v1/completions", completions::handle);
        http.get("/v1/models", this::models);
    }

    private Object chatCompletions(Request request, Response response) {
        ChatCompletionRequest chat;
        String model;
        try {
            // Image parts make chat bodies as large as the image routes' (gateway.max_image_body_bytes).
            JsonObject body = Bodies.json(request, config.maxImageBodyBytes(), "gateway.max_image_body_bytes");
            Urgency.of(request).read(body);
            chat = ChatCompletionRequest.parse(body, config.imageUrls());
            model = runner.chatModel(chat.model(), chat.params());
        } catch (ApiException e) {
            return error(response, e);
        }
        return chat.stream() ? stream(request, response, chat, model) : complete(request, response, chat, model);
    }

    private Object complete(Request request, Response response, ChatCompletionRequest chat, String model) {
        try {
            JobResult r = runner.callShared(model, chat.params(), request);
            ChatOutput out = r.chat();
            JsonObject message = new JsonObject();
            message.addProperty("role", "assistant");
            if (out.toolCalls().isEmpty()) {
                message.addProperty("content", out.text());
            } else {
                // As axllm serve answers a call (docs/tool_calling.md) and OpenAI does: content null beside the calls.
                message.add("content", out.text().isBlank() ? JsonNull.INSTANCE : new com.google.gson.JsonPrimitive(out.text()));
                message.add("tool_calls", toolCalls(out.toolCalls(), false));
            }
            if (out.thinking() != null) {
                // Where DeepSeek's API and vLLM put a model's thinking, apart from what is said.
                message.addProperty("reasoning_content", out.thinking());
            }
            message.add("refusal", JsonNull.INSTANCE);
            JsonObject choice = new JsonObject();
            choice.addProperty("index", 0);
            choice.add("message", message);
            choice.add("logprobs", JsonNull.INSTANCE);
            choice.addProperty("finish_reason", out.finishReason().wire());
            JsonObject body = envelope(r.id(), "chat.completion", model);
            body.add("choices", array(choice));
            body.add("usage", usage(out.usage()));
            return Json.respond(response, 200, body, JobRunner.resultHeaders(r));
        } catch (ApiException e) {
            return error(response, e);
        }
    }

    private Object stream(Request request, Response response, ChatCompletionRequest chat, String model) {
        ChunkStream chunks = new ChunkStream(new ResponseStream(response.raw(), "text/event-stream"), model, chat.includeUsage(),
                RequestLog.of(request), Caller.of(request));
        try {
            JobResult r = runner.stream(model, chat.params(), chunks, RequestLog.of(request));
            if (r != null) {
                chunks.finish(r);
            }
        } catch (ApiException e) {
            if (!chunks.sse.started()) {
                return error(response, e);
            }
            // Headers are gone: the error travels as an SSE event, which the OpenAI SDKs raise as an error.
            chunks.sse.writeQuietly("data: " + errorBody(e) + "\n\n");
        } catch (IOException e) {
            // The caller left after the last token; the job is finished, nothing to cancel.
        }
        return "";
    }

    /**
     * A streamed completion: a first chunk with the role, one per delta, one with the finish reason, a
     * usage chunk when asked for, then {@code [DONE]}. Headers are committed at the first chunk or keep-alive.
     */
    private static final class ChunkStream implements JobRunner.StreamSink {
        final ResponseStream sse;
        private final String model;
        private final boolean includeUsage;
        private final RequestLog requestLog;
        private final Caller caller;
        private String id;

        ChunkStream(ResponseStream sse, String model, boolean includeUsage, RequestLog requestLog, Caller caller) {
            this.sse = sse;
            this.model = model;
            this.includeUsage = includeUsage;
            this.requestLog = requestLog;
            this.caller = caller;
        }

        @Override
        public boolean gone() {
            return caller.gone();
        }

        @Override
        public void delta(String text) throws IOException {
            start();
            JsonObject delta = new JsonObject();
            delta.addProperty("content", text);
            data(chunk(delta, null));
        }

        @Override
        public void thinking(String text) throws IOException {
            start();
            JsonObject delta = new JsonObject();
            delta.addProperty("reasoning_content", text);
            data(chunk(delta, null));
        }

        @Override
        public void idle() throws IOException {
            start();
            sse.write(": keep-alive\n\n");
        }

        void finish(JobResult r) throws IOException {
            start();
            if (!r.chat().toolCalls().isEmpty()) {
                // One chunk with the whole calls, each with its index, as the runtime streams them (docs/tool_calling.md).
                JsonObject delta = new JsonObject();
                delta.add("tool_calls", toolCalls(r.chat().toolCalls(), true));
                data(chunk(delta, null));
            }
            data(chunk(new JsonObject(), r.chat().finishReason().wire()));
            if (includeUsage) {
                JsonObject u = envelope(id, "chat.completion.chunk", model);
                u.add("choices", new JsonArray());
                u.add("usage", usage(r.chat().usage()));
                data(u);
            }
            sse.write("data: [DONE]\n\n");
        }

        private void data(JsonObject o) throws IOException {
            sse.write("data: " + o + "\n\n");
        }

        private void start() throws IOException {
            if (!sse.started()) {
                id = "chatcmpl-" + requestLog.jobId();
                JsonObject delta = new JsonObject();
                delta.addProperty("role", "assistant");
                delta.addProperty("content", "");
                data(chunk(delta, null));
            }
        }

        private JsonObject chunk(JsonObject delta, String finish) {
            JsonObject choice = new JsonObject();
            choice.addProperty("index", 0);
            choice.add("delta", delta);
            choice.add("logprobs", JsonNull.INSTANCE);
            choice.add("finish_reason", finish == null ? JsonNull.INSTANCE : new com.google.gson.JsonPrimitive(finish));
            JsonObject c = envelope(id, "chat.completion.chunk", model);
            c.add("choices", array(choice));
            if (includeUsage) {
                c.add("usage", JsonNull.INSTANCE);
            }
            return c;
        }
    }

    private Object models(Request request, Response response) {
        JsonArray data = new JsonArray();
        for (String m : registry.names()) {
            String target = registry.target(m);
            JsonObject o = new JsonObject();
            o.addProperty("id", m);
            o.addProperty("object", "model");
            o.addProperty("created", registry.since(target));
            o.addProperty("owned_by", registry.emulated(target) ? "axfleet (EMULATED runtime, not the AX650 card)" : "axfleet");
            data.add(o);
        }
        JsonObject body = new JsonObject();
        body.addProperty("object", "list");
        body.add("data", data);
        return Json.respond(response, body);
    }

    /** OpenAI's {@code tool_calls}: {@code [{"id","type":"function","function":{"name","arguments"}}]}, with index when streamed. */
    static JsonArray toolCalls(java.util.List<dev.axfleet.broker.chat.ToolCall> calls, boolean indexed) {
        JsonArray out = new JsonArray();
        for (int i = 0; i < calls.size(); i++) {
            dev.axfleet.broker.chat.ToolCall c = calls.get(i);
            JsonObject fn = new JsonObject();
            fn.addProperty("name", c.name());
            fn.addProperty("arguments", c.arguments());
            JsonObject o = new JsonObject();
            if (indexed) {
                o.addProperty("index", i);
            }
            o.addProperty("id", c.id());
            o.addProperty("type", "function");
            o.add("function", fn);
            out.add(o);
        }
        return out;
    }

    private static JsonObject envelope(String id, String object, String model) {
        JsonObject o = new JsonObject();
        o.addProperty("id", id.startsWith("chatcmpl-") ? id : "chatcmpl-" + id);
        o.addProperty("object", object);
        o.addProperty("created", System.currentTimeMillis() / 1000);
        o.addProperty("model", model);
        return o;
    }

    static JsonObject usage(Usage u) {
        JsonObject o = new JsonObject();
        o.addProperty("prompt_tokens", u == null ? 0 : u.promptTokens());
        o.addProperty("completion_tokens", u == null ? 0 : u.completionTokens());
        o.addProperty("total_tokens", u == null ? 0 : u.totalTokens());
        return o;
    }

    private static JsonArray array(JsonObject o) {
        JsonArray a = new JsonArray();
        a.add(o);
        return a;
    }

    /** An error in OpenAI's shape: {"error": {"message", "type", "param", "code"}}. */
    public static String error(Response response, ApiException e) {
        return Json.respond(response, e.status(), errorBody(e), e.headers());
    }

    public static JsonObject errorBody(ApiException e) {
        JsonObject err = new JsonObject();
        err.addProperty("message", e.getMessage());
        err.addProperty("type", switch (e.status()) {
            case 400, 404, 413, 422 -> "invalid_request_error";
            case 401 -> "authentication_error";
            case 429 -> "rate_limit_error";
            default -> "api_error";
        });
        if (e.param() == null) {
            err.add("param", JsonNull.INSTANCE);
        } else {
            err.addProperty("param", e.param());
        }
        err.addProperty("code", e.code());
        e.extra().forEach(err::addProperty);
        JsonObject o = new JsonObject();
        o.add("error", err);
        return o;
    }
}
