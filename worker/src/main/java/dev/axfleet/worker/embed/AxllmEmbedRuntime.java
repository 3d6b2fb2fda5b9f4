package dev.axfleet.worker.embed;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.axfleet.worker.runtime.AxllmServeRuntime;
import dev.axfleet.worker.runtime.AxllmUpstream;
import dev.axfleet.worker.runtime.EngineException;
import dev.axfleet.worker.runtime.RuntimeHttp;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code axllm serve} started on an embedding model folder ({@code "is_embedding": true} in its config.json;
 * AXERA-TECH/ax-llm docs/configuration.md "Embedding"). The process is kept as {@link AxllmServeRuntime} keeps a
 * chat model's; vectors come from {@code POST /v1/embeddings {model, input: [..]}}, answered by openai-api.cpp's
 * EmbeddingsJSONEncoder as {@code {"object":"list","data":[{"object":"embedding","index","embedding"}],"model",
 * "usage":{"prompt_tokens":0,"total_tokens":0}}} (main.cpp@00d7aaf {@code registerEmbedding}; docs/hardware.md F31).
 * The runtime pools the last token and normalises (src/runner/LLM_embed.cpp); it ignores {@code dimensions} and any
 * {@code encoding_format} but float, so neither is sent. A failed embedding ends the request with no chunk, which the
 * server answers 504 "Request timeout" at once.
 */
public final class AxllmEmbedRuntime extends AxllmUpstream implements EmbedRuntime {
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(2)).build();
    private final Duration requestTimeout;

    public AxllmEmbedRuntime(AxllmServeRuntime.Config config, Duration requestTimeout) {
        super(config);
        this.requestTimeout = requestTimeout;
    }

    @Override
    public String kind() {
        return "axllm-serve-embeddings";
    }

    @Override
    public Vectors embed(List<String> inputs) throws EngineException {
        JsonObject body = new JsonObject();
        body.addProperty("model", process.models().get(0));
        JsonArray input = new JsonArray();
        inputs.forEach(input::add);
        body.add("input", input);
        HttpRequest request = HttpRequest.newBuilder(process.base().resolve("/v1/embeddings")).timeout(requestTimeout)
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body.toString())).build();
        HttpResponse<String> r = RuntimeHttp.send(http, request, HttpResponse.BodyHandlers.ofString(), "axllm serve", process.base(),
                "did not embed " + inputs.size() + " inputs within " + requestTimeout);
        JsonObject o;
        try {
            o = JsonParser.parseString(r.body()).getAsJsonObject();
        } catch (RuntimeException e) {
            throw new EngineException(EngineException.Kind.UNAVAILABLE, "axllm serve answered " + r.statusCode() + " with no JSON");
        }
        if (r.statusCode() != 200) {
            String message = o.has("error") && o.get("error").isJsonObject() && o.getAsJsonObject("error").has("message")
                    ? o.getAsJsonObject("error").get("message").getAsString() : r.body();
            // 504 at once is the runtime's "Embed failed" (no chunk pushed); 503 a busy slot; both are the runtime's, not the input's.
            throw new EngineException(r.statusCode() == 400 || r.statusCode() == 504 ? EngineException.Kind.REJECTED
                    : EngineException.Kind.UNAVAILABLE, "axllm serve could not embed: " + r.statusCode() + " " + message);
        }
        JsonArray data = o.getAsJsonArray("data");
        List<float[]> vectors = new ArrayList<>(data == null ? 0 : data.size());
        if (data != null) {
            for (JsonElement d : data) {
                JsonArray e = d.getAsJsonObject().getAsJsonArray("embedding");
                float[] v = new float[e.size()];
                for (int i = 0; i < v.length; i++) {
                    v[i] = e.get(i).getAsFloat();
                }
                vectors.add(v);
            }
        }
        JsonObject usage = o.has("usage") && o.get("usage").isJsonObject() ? o.getAsJsonObject("usage") : null;
        int promptTokens = usage != null && usage.has("prompt_tokens") ? usage.get("prompt_tokens").getAsInt() : 0;
        return new Vectors(vectors, promptTokens);
    }
}
