package dev.axfleet.gateway.embed;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.axfleet.broker.FieldException;
import dev.axfleet.broker.JobResult;
import dev.axfleet.broker.JsonFields;
import dev.axfleet.broker.Kind;
import dev.axfleet.broker.embed.EmbedCodec;
import dev.axfleet.broker.embed.EmbedParams;
import dev.axfleet.broker.embed.Embeddings;
import dev.axfleet.gateway.ApiException;
import dev.axfleet.gateway.Bodies;
import dev.axfleet.gateway.GatewayConfig;
import dev.axfleet.gateway.JobRunner;
import dev.axfleet.gateway.Json;
import dev.axfleet.gateway.ModelRegistry;
import dev.axfleet.gateway.ollama.OllamaFacade;
import dev.axfleet.gateway.openai.OpenAiFacade;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import spark.Request;
import spark.Response;
import spark.Service;

/**
 * Embeddings in the shapes their clients read: OpenAI's {@code POST /v1/embeddings} (openai/openai-openapi
 * CreateEmbeddingRequest: {@code input} a string or strings, {@code encoding_format} float or base64 — what the npm
 * {@code openai} client asks for unless told otherwise —, {@code dimensions}; too long an input is a 400) and Ollama's
 * {@code POST /api/embed} ({@code input}, {@code truncate} default true, {@code dimensions}; answered
 * {@code {model, embeddings, total_duration, load_duration, prompt_eval_count}}) and the older
 * {@code POST /api/embeddings} ({@code prompt} → {@code {embedding}}). The vectors travel the bus as base64.
 */
public final class EmbeddingsFacade {
    private static final Logger log = LoggerFactory.getLogger(EmbeddingsFacade.class);

    private final JobRunner runner;
    private final ModelRegistry registry;
    private final GatewayConfig config;

    public EmbeddingsFacade(JobRunner runner, ModelRegistry registry, GatewayConfig config) {
        this.runner = runner;
        this.registry = registry;
        this.config = config;
    }

    /** OpenAI's route. */
    public void registerOpenAi(Service http) {
        http.post("/v1/embeddings", this::openAi);
    }

    /** Ollama's routes. */
    public void registerOllama(Service http) {
        http.post("/api/embed", this::embed);
        http.post("/api/embeddings", this::embeddings);
    }

    /** A request's body, the model name it gave and the embedding model that name means (in the facade's own words when none). */
    private record Asked(JsonFields body, String name, String model) {
    }

    private Asked asked(Request req, boolean openAi) throws ApiException, FieldException {
        JsonFields f = JsonFields.of(Bodies.json(req, config.maxBodyBytes()));
        String name = f.optString("model", 1, 256);
        if (name == null) {
            throw new FieldException("model", openAi ? "required" : "model is required");
        }
        return new Asked(f, name, openAi ? runner.model(Kind.EMBEDDING, name) : OllamaFacade.resolve(runner, registry, Kind.EMBEDDING, name));
    }

    private Embeddings run(String model, List<String> input, Integer dimensions, boolean truncate, Request req) throws ApiException {
        JobResult r = runner.callShared(model, new EmbedParams(input, dimensions, truncate, EmbedParams.Format.BASE64), req);
        return r.output(Embeddings.class);
    }

    private Object openAi(Request req, Response res) {
        try {
            Asked a = asked(req, true);
            JsonFields f = a.body();
            String model = a.model();
            String name = a.name();
            List<String> input = EmbedCodec.inputs(f, "input");
            EmbedParams.Format format = EmbedCodec.format(f, "encoding_format");
            Embeddings e = run(model, input, f.optInt("dimensions", EmbedParams.DIMENSIONS), false, req);
            JsonArray data = new JsonArray();
            for (int i = 0; i < e.vectors().size(); i++) {
                JsonObject d = new JsonObject();
                d.addProperty("object", "embedding");
                d.addProperty("index", i);
                if (format == EmbedParams.Format.BASE64) {
                    d.addProperty("embedding", Embeddings.base64(e.vectors().get(i)));
                } else {
                    d.add("embedding", floats(e.vectors().get(i)));
                }
                data.add(d);
            }
            JsonObject o = new JsonObject();
            o.addProperty("object", "list");
            o.add("data", data);
            o.addProperty("model", name);
            JsonObject usage = new JsonObject();
            usage.addProperty("prompt_tokens", e.usage() == null ? 0 : e.usage().promptTokens());
            usage.addProperty("total_tokens", e.usage() == null ? 0 : e.usage().promptTokens());
            o.add("usage", usage);
            return Json.respond(res, o);
        } catch (FieldException e) {
            return refused(req, res, ApiException.badRequest(e.field(), e.getMessage()), true);
        } catch (ApiException e) {
            return refused(req, res, e, true);
        }
    }

    private Object embed(Request req, Response res) {
        long start = System.nanoTime();
        try {
            Asked a = asked(req, false);
            JsonFields f = a.body();
            String model = a.model();
            JsonObject o = new JsonObject();
            o.addProperty("model", a.name());
            if (empty(f.get("input"))) {
                // Ollama's way to load a model (server/routes.go EmbedHandler): no input, no vectors, 200. It is resident.
                o.add("embeddings", new JsonArray());
                return Json.respond(res, o);
            }
            Embeddings e = run(model, EmbedCodec.inputs(f, "input"), f.optInt("dimensions", EmbedParams.DIMENSIONS),
                    !Boolean.FALSE.equals(f.optBool("truncate")), req);
            JsonArray list = new JsonArray();
            e.vectors().forEach(v -> list.add(floats(v)));
            o.add("embeddings", list);
            o.addProperty("total_duration", System.nanoTime() - start);
            o.addProperty("load_duration", 0);
            o.addProperty("prompt_eval_count", e.usage() == null ? 0 : e.usage().promptTokens());
            return Json.respond(res, o);
        } catch (FieldException e) {
            return refused(req, res, ApiException.badRequest(e.field(), e.getMessage()), false);
        } catch (ApiException e) {
            return refused(req, res, e, false);
        }
    }

    /** The older {@code /api/embeddings}: one {@code prompt}, one {@code embedding}. */
    private Object embeddings(Request req, Response res) {
        try {
            Asked a = asked(req, false);
            JsonFields f = a.body();
            String model = a.model();
            JsonObject o = new JsonObject();
            String prompt = f.optString("prompt", 0, EmbedParams.MAX_INPUT_CHARS);
            if (prompt == null || prompt.isEmpty()) {
                // As Ollama: an empty prompt loads the model and answers an empty embedding.
                o.add("embedding", new JsonArray());
                return Json.respond(res, o);
            }
            o.add("embedding", floats(run(model, List.of(prompt), null, true, req).vectors().get(0)));
            return Json.respond(res, o);
        } catch (FieldException e) {
            return refused(req, res, ApiException.badRequest(e.field(), e.getMessage()), false);
        } catch (ApiException e) {
            return refused(req, res, e, false);
        }
    }

    private static boolean empty(JsonElement input) {
        return input == null || input.isJsonNull() || input.isJsonPrimitive() && input.getAsJsonPrimitive().isString() && input.getAsString().isEmpty()
                || input.isJsonArray() && input.getAsJsonArray().isEmpty();
    }

    private static JsonArray floats(float[] v) {
        JsonArray a = new JsonArray();
        for (float x : v) {
            a.add(x);
        }
        return a;
    }

    private static String refused(Request req, Response res, ApiException e, boolean openAi) {
        log.info("{} {} refused: {} {}", req.requestMethod(), req.pathInfo(), e.status(), e.getMessage());
        return openAi ? OpenAiFacade.error(res, e) : OllamaFacade.error(res, e);
    }
}
