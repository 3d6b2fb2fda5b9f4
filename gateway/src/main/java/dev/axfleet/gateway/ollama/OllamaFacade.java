package dev.axfleet.gateway.ollama;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.axfleet.broker.JobResult;
import dev.axfleet.broker.Capability;
import dev.axfleet.broker.Kind;
import dev.axfleet.broker.chat.ChatOutput;
import dev.axfleet.gateway.ApiException;
import dev.axfleet.gateway.Bodies;
import dev.axfleet.gateway.Caller;
import dev.axfleet.gateway.ConversationTurns;
import dev.axfleet.gateway.GatewayConfig;
import dev.axfleet.gateway.JobRunner;
import dev.axfleet.gateway.Json;
import dev.axfleet.gateway.ModelRegistry;
import dev.axfleet.gateway.RequestLog;
import dev.axfleet.gateway.ResponseStream;
import dev.axfleet.gateway.residency.Residency;
import dev.axfleet.gateway.Urgency;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import spark.Request;
import spark.Response;
import spark.Service;

/**
 * The Ollama facade (ollama/ollama docs/api.md, api/types.go, server/routes.go; ../shared/anchors.md §1b):
 * {@code /api/chat} and {@code /api/generate} (NDJSON stream by default, or one object with
 * {@code "stream": false}), {@code /api/tags}, {@code /api/ps}, {@code /api/show}, {@code /api/version} and
 * {@code GET /}. Errors are {@code {"error": "..."}}; inside a stream, a last line of that shape.
 */
public final class OllamaFacade {
    /** The Ollama API level these routes follow (the version docs/api.md describes). */
    static final String API_VERSION = "0.5.1";
    private static final Pattern PARAMETER_SIZE = Pattern.compile("(\\d+(?:\\.\\d+)?)[bB]");

    private final JobRunner runner;
    private final ModelRegistry registry;
    private final GatewayConfig config;
    private final ConversationTurns conversations;
    private final Residency residency;

    public OllamaFacade(JobRunner runner, ModelRegistry registry, GatewayConfig config, ConversationTurns conversations, Residency residency) {
        this.runner = runner;
        this.registry = registry;
        this.config = config;
        this.conversations = conversations;
        this.residency = residency;
    }

    public void register(Service http) {
        http.post("/api/chat", (req, res) -> answer(req, res, true));
        http.post("/api/generate", (req, res) -> answer(req, res, false));
        http.get("/api/tags", this::tags);
        http.get("/api/ps", this::ps);
        http.post("/api/show", this::show);
        http.get("/api/version", (req, res) -> {
            JsonObject o = new JsonObject();
            o.addProperty("version", API_VERSION);
            return Json.respond(res, o);
        });
        http.get("/", (req, res) -> {
            res.type("text/plain");
            return "Ollama is running";
        });
    }

    private Object answer(Request request, Response response, boolean chat) {
        long start = System.nanoTime();
        OllamaRequest r;
        String model;
        try {
            // Images make chat bodies as large as the image routes' (gateway.max_image_body_bytes).
            JsonObject body = Bodies.json(request, config.maxImageBodyBytes(), "gateway.max_image_body_bytes");
            Urgency.of(request).read(body);
            r = chat ? OllamaRequest.chat(body) : OllamaRequest.generate(body);
            model = resolve(runner, registry, Kind.CHAT, r.model());
            runner.refuseUnread(model, r.params());
        } catch (ApiException e) {
            return error(response, e);
        }
        if (r.empty()) {
            return OllamaResidency.loadOrUnload(residency, model, r.model(), chat, r.keepAlive(), line(r.model(), chat, ""), response);
        }
        // A model kept as a conversation on the server: the prompt is the next turn of it (the coyote's AX650 mode).
        String turn = !chat && conversations.conversational(bare(r.model())) ? r.prompt() : null;
        if (!r.stream()) {
            try {
                JobResult result = turn != null
                        ? conversations.turn(bare(r.model()), model, r.params(), turn, null, RequestLog.of(request))
                        : runner.callShared(model, r.params(), request, 0, r.keepAlive());
                JsonObject o = last(r.model(), chat, result.chat().text(), result, start);
                if (result.chat().thinking() != null) {
                    thought(o, chat, result.chat().thinking());
                }
                return Json.respond(response, 200, o, JobRunner.resultHeaders(result));
            } catch (ApiException e) {
                return error(response, e);
            }
        }
        ResponseStream out = new ResponseStream(response.raw(), "application/x-ndjson");
        try {
            Caller caller = Caller.of(request);
            JobRunner.StreamSink sink = new JobRunner.StreamSink() {
                @Override
                public void delta(String text) throws IOException {
                    JsonObject o = line(r.model(), chat, text);
                    o.addProperty("done", false);
                    out.write(o + "\n");
                }

                @Override
                public void thinking(String text) throws IOException {
                    JsonObject o = line(r.model(), chat, "");
                    thought(o, chat, text);
                    o.addProperty("done", false);
                    out.write(o + "\n");
                }

                @Override
                public void idle() {
                    // NDJSON has no comment lines: Ollama sends nothing while a request waits, and neither do we.
                }

                @Override
                public boolean gone() {
                    return caller.gone();
                }
            };
            JobResult result = turn != null ? conversations.turn(bare(r.model()), model, r.params(), turn, sink, RequestLog.of(request))
                    : runner.stream(model, r.params(), sink, RequestLog.of(request), r.keepAlive());
            if (result != null) {
                out.write(last(r.model(), chat, "", result, start) + "\n");
            }
        } catch (ApiException e) {
            if (!out.started()) {
                return error(response, e);
            }
            out.writeQuietly(errorBody(e) + "\n");
        } catch (IOException e) {
            // The caller left after the last piece; the job is finished.
        }
        return "";
    }

    /** A line of the answer: {@code message.content} for chat, {@code response} for generate. */
    private static JsonObject line(String model, boolean chat, String text) {
        JsonObject o = new JsonObject();
        o.addProperty("model", model);
        o.addProperty("created_at", Instant.now().toString());
        if (chat) {
            JsonObject message = new JsonObject();
            message.addProperty("role", "assistant");
            message.addProperty("content", text);
            o.add("message", message);
        } else {
            o.addProperty("response", text);
        }
        return o;
    }

    /** Ollama's place for thinking: {@code message.thinking} for chat, {@code thinking} for generate. */
    private static void thought(JsonObject line, boolean chat, String text) {
        (chat ? line.getAsJsonObject("message") : line).addProperty("thinking", text);
    }

    /**
     * The final object, with Ollama's timings in nanoseconds: the prompt's evaluation is the time to the
     * runtime's first text, the rest of the run is generation, loading costs nothing (models are resident).
     */
    private static JsonObject last(String model, boolean chat, String text, JobResult r, long startNanos) {
        ChatOutput out = r.chat();
        JsonObject o = line(model, chat, text);
        o.addProperty("done", true);
        // Ollama says "stop" when the model called tools; the calls are in message.tool_calls.
        o.addProperty("done_reason", out.finishReason() == dev.axfleet.broker.chat.FinishReason.TOOL_CALLS ? "stop" : out.finishReason().wire());
        if (chat && !out.toolCalls().isEmpty()) {
            // Ollama's api.ToolCall: {"function": {"index", "name", "arguments": an object}} (api/types.go).
            JsonArray calls = new JsonArray();
            for (int i = 0; i < out.toolCalls().size(); i++) {
                dev.axfleet.broker.chat.ToolCall c = out.toolCalls().get(i);
                JsonObject fn = new JsonObject();
                fn.addProperty("index", i);
                fn.addProperty("name", c.name());
                fn.add("arguments", com.google.gson.JsonParser.parseString(c.arguments().isBlank() ? "{}" : c.arguments()));
                JsonObject call = new JsonObject();
                call.add("function", fn);
                calls.add(call);
            }
            o.getAsJsonObject("message").add("tool_calls", calls);
        }
        long firstToken = out.firstTokenMs() == null ? 0 : out.firstTokenMs();
        o.addProperty("total_duration", System.nanoTime() - startNanos);
        o.addProperty("load_duration", 0);
        o.addProperty("prompt_eval_count", out.usage() == null ? 0 : out.usage().promptTokens());
        o.addProperty("prompt_eval_duration", firstToken * 1_000_000);
        o.addProperty("eval_count", out.usage() == null ? 0 : out.usage().completionTokens());
        o.addProperty("eval_duration", Math.max(0, r.runMs() - firstToken) * 1_000_000);
        return o;
    }

    private Object tags(Request request, Response response) {
        JsonArray models = new JsonArray();
        for (String m : registry.names()) {
            models.add(describe(m));
        }
        JsonObject o = new JsonObject();
        o.add("models", models);
        return Json.respond(response, o);
    }

    /** Ollama's {@code /api/ps}: the models on the card or loading onto it (OllamaResidency says how). */
    private Object ps(Request request, Response response) {
        JsonArray models = new JsonArray();
        Instant now = Instant.now();
        java.util.List<Residency.Loaded> loaded = OllamaResidency.byExpiry(residency.loaded(), now);
        for (Residency.Loaded l : loaded) {
            // Each name a client may use for it (its aliases too), as the list of models has them.
            for (String name : registry.names()) {
                if (registry.target(name).equals(l.model())) {
                    JsonObject d = describe(name);
                    OllamaResidency.psFields(l, d, now);
                    models.add(d);
                }
            }
        }
        JsonObject o = new JsonObject();
        o.add("models", models);
        return Json.respond(response, o);
    }

    private Object show(Request request, Response response) {
        try {
            JsonObject body = Bodies.json(request, config.maxBodyBytes());
            String name = body.has("model") ? body.get("model").getAsString() : body.has("name") ? body.get("name").getAsString() : null;
            String model = registry.target(known(registry, name));
            JsonObject d = describe(model);
            JsonObject info = new JsonObject();
            String family = d.getAsJsonObject("details").get("family").getAsString();
            info.addProperty("general.architecture", family);
            info.addProperty(family + ".context_length", registry.contextTokens(model));
            JsonObject o = new JsonObject();
            o.addProperty("modelfile", "# " + model + ", resident on the AX650 card, served by axfleet"
                    + (registry.emulated(model) ? " (EMULATED: no card here)" : ""));
            o.addProperty("parameters", "");
            o.addProperty("template", "");
            o.add("details", d.getAsJsonObject("details"));
            o.add("model_info", info);
            o.add("capabilities", capabilities(registry.kinds(model), registry.capabilities(model)));
            o.addProperty("modified_at", d.get("modified_at").getAsString());
            return Json.respond(response, o);
        } catch (ApiException e) {
            return error(response, e);
        } catch (RuntimeException e) {
            return error(response, ApiException.badRequest("model", "must be a string"));
        }
    }

    /**
     * What Ollama lists for a model. Family and parameter size are read from the model's name; there is no
     * file to measure or hash, so {@code size} is 0 and {@code digest} is the SHA-256 of the name.
     */
    private JsonObject describe(String model) {
        JsonObject details = new JsonObject();
        details.addProperty("parent_model", "");
        details.addProperty("format", "axmodel");
        String family = model.split("[-_:]", 2)[0].toLowerCase(Locale.ROOT);
        details.addProperty("family", family);
        JsonArray families = new JsonArray();
        families.add(family);
        details.add("families", families);
        Matcher size = PARAMETER_SIZE.matcher(model);
        details.addProperty("parameter_size", size.find() ? size.group(1) + "B" : "");
        details.addProperty("quantization_level", "");
        JsonObject o = new JsonObject();
        o.addProperty("name", model + ":latest");
        o.addProperty("model", model + ":latest");
        o.addProperty("modified_at", Instant.ofEpochSecond(registry.since(registry.target(model))).toString());
        o.addProperty("size", 0);
        o.addProperty("digest", sha256(model));
        o.add("details", details);
        return o;
    }

    private static String bare(String name) {
        return ModelRegistry.bare(name);
    }

    /**
     * What Ollama's /api/show lists a model can do, by the kinds of work it does (ollama/ollama types/model/capability.go:
     * completion, embedding, vision, tools, thinking, insert).
     */
    private static JsonArray capabilities(java.util.Set<Kind> kinds, java.util.Set<Capability> takes) {
        JsonArray out = new JsonArray();
        for (Kind k : kinds) {
            String capability = switch (k) {
                case CHAT -> "completion";
                case EMBEDDING -> "embedding";
                // Not Ollama's (it serves no image or audio models): said so the models listed in /api/tags are not taken for chat.
                case IMAGE, INTERROGATION, TRANSCRIPTION, SPEECH -> null;
            };
            if (capability != null) {
                out.add(capability);
            }
        }
        for (Capability c : takes) {
            out.add(switch (c) {
                case VISION -> "vision";
                case TOOLS -> "tools";
            });
        }
        return out;
    }

    /** A name some model answers to, in Ollama's words when none does. */
    private static String known(ModelRegistry registry, String name) throws ApiException {
        if (name == null || !registry.names().contains(bare(name)) && !registry.knows(bare(name))) {
            throw notFound(registry, name);
        }
        return bare(name);
    }

    /**
     * The model an Ollama client's name means for {@code kind} ({@code name} or {@code name:latest}), or 404 in Ollama's
     * words; a model of another kind is a 400 saying what it does.
     */
    public static String resolve(JobRunner runner, ModelRegistry registry, Kind kind, String name) throws ApiException {
        try {
            return runner.model(kind, name);
        } catch (ApiException e) {
            throw e.status() == 404 ? notFound(registry, name) : e;
        }
    }

    private static ApiException notFound(ModelRegistry registry, String name) {
        return new ApiException(404, "model \"" + name + "\" not found, try pulling it first (models here: "
                + String.join(", ", registry.names()) + ")", "model", "model_not_found", Map.of());
    }

    public static String error(Response response, ApiException e) {
        return Json.respond(response, e.status(), errorBody(e), e.headers());
    }

    static JsonObject errorBody(ApiException e) {
        JsonObject o = new JsonObject();
        o.addProperty("error", e.getMessage());
        e.extra().forEach(o::addProperty);
        return o;
    }

    private static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
