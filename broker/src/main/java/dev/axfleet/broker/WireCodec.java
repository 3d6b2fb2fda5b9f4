package dev.axfleet.broker;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The JSON envelopes of the wire, version {@value #VERSION}: jobs, deltas, results, job status, worker
 * state and cancel requests. docs/protocol.md describes the same fields for people.
 *
 * <p>Jobs come from anyone (microcontrollers included), so {@link #decodeJob} checks every field and
 * names the one at fault. Everything else is written by axfleet itself and decoded leniently.
 */
public final class WireCodec {
    public static final int VERSION = 1;
    /** Largest job payload accepted, in bytes. Larger jobs are answered with an error, not run. */
    public static final int MAX_JOB_BYTES = 1 << 20;
    /** Image jobs carry their input image: up to {@link ImageParams#MAX_IMAGE_BASE64} characters of it. */
    public static final int MAX_IMAGE_JOB_BYTES = ImageParams.MAX_IMAGE_BASE64 + (1 << 20);
    public static final int MAX_PROMPT_CHARS = 10_000;
    public static final int MAX_MESSAGES = 1000;
    public static final int MAX_STOP_SEQUENCES = 16;
    public static final int MAX_STOP_LENGTH = 256;
    public static final int MAX_TOKENS_LIMIT = 1 << 20;
    private static final Set<String> ROLES = Set.of(ChatMessage.SYSTEM, ChatMessage.USER, ChatMessage.ASSISTANT);
    private static final SecureRandom RANDOM = new SecureRandom();

    private WireCodec() {
    }

    /** A fresh job id: 16 characters of base 36, unique enough for a fleet. */
    public static String newJobId() {
        StringBuilder sb = new StringBuilder(16);
        for (int i = 0; i < 16; i++) {
            sb.append(Character.forDigit(RANDOM.nextInt(36), 36));
        }
        return sb.toString();
    }

    // ---- jobs ----

    public static byte[] encodeJob(Job job) {
        JsonObject o = new JsonObject();
        o.addProperty("v", VERSION);
        o.addProperty("id", job.id());
        o.addProperty("model", job.model());
        o.addProperty("task", job.task().wire());
        o.addProperty("reply_to", job.replyTo());
        if (job.stream()) {
            o.addProperty("stream", true);
        }
        if (job.createdAt() != null) {
            o.addProperty("created_at", job.createdAt().toEpochMilli());
        }
        if (job.expiresAt() != null) {
            o.addProperty("expires_at", job.expiresAt().toEpochMilli());
        }
        o.add("params", encodeParams(job.params()));
        return bytes(o);
    }

    private static JsonObject encodeParams(TaskParams params) {
        if (params instanceof ImageParams p) {
            return encodeImage(p);
        }
        if (params instanceof InterrogateParams p) {
            return encodeInterrogate(p);
        }
        return encodeChat((ChatParams) params);
    }

    private static JsonObject encodeImage(ImageParams p) {
        JsonObject o = new JsonObject();
        o.addProperty("prompt", p.prompt());
        if (p.negativePrompt() != null) {
            o.addProperty("negative_prompt", p.negativePrompt());
        }
        addIfSet(o, "seed", p.seed());
        o.addProperty("width", p.width());
        o.addProperty("height", p.height());
        addIfSet(o, "steps", p.steps());
        addIfSet(o, "cfg_scale", p.cfgScale());
        if (p.sampler() != null) {
            o.addProperty("sampler_name", p.sampler());
        }
        if (p.initImage() != null) {
            o.addProperty("init_image", p.initImage());
        }
        addIfSet(o, "denoising_strength", p.denoisingStrength());
        o.addProperty("resize_mode", p.resizeMode().ordinal());
        return o;
    }

    private static JsonObject encodeInterrogate(InterrogateParams p) {
        JsonObject o = new JsonObject();
        o.addProperty("image", p.image());
        if (p.categories() != null) {
            JsonObject c = new JsonObject();
            p.categories().forEach((name, terms) -> {
                JsonArray a = new JsonArray();
                terms.forEach(a::add);
                c.add(name, a);
            });
            o.add("categories", c);
        }
        return o;
    }

    private static JsonObject encodeChat(ChatParams p) {
        JsonObject o = new JsonObject();
        JsonArray messages = new JsonArray();
        for (ChatMessage m : p.messages()) {
            JsonObject mo = new JsonObject();
            mo.addProperty("role", m.role());
            mo.addProperty("content", m.content());
            messages.add(mo);
        }
        o.add("messages", messages);
        addIfSet(o, "temperature", p.temperature());
        addIfSet(o, "top_p", p.topP());
        addIfSet(o, "top_k", p.topK());
        addIfSet(o, "max_tokens", p.maxTokens());
        if (!p.stop().isEmpty()) {
            JsonArray stop = new JsonArray();
            p.stop().forEach(stop::add);
            o.add("stop", stop);
        }
        addIfSet(o, "seed", p.seed());
        addIfSet(o, "presence_penalty", p.presencePenalty());
        addIfSet(o, "frequency_penalty", p.frequencyPenalty());
        addIfSet(o, "repeat_penalty", p.repeatPenalty());
        if (p.think()) {
            o.addProperty("think", true);
        }
        return o;
    }

    /**
     * Reads and checks a job published on {@code topic}.
     *
     * @param responseTopic the MQTT 5 response topic, or null (MQTT 3.1.1 publishers put {@code reply_to} in the JSON)
     * @param correlation   the MQTT 5 correlation data, or null
     * @throws InvalidJobException naming the field at fault, with whatever could be read for the error reply
     */
    public static Job decodeJob(String topic, byte[] payload, String responseTopic, byte[] correlation)
            throws InvalidJobException {
        String model = Topics.modelOfJobTopic(topic).orElse(null);
        String correlationId = idFromCorrelation(correlation);
        String fallbackId = correlationId != null ? correlationId : newJobId();
        String replyTo = usableReplyTo(responseTopic, model, fallbackId);
        if (model == null) {
            throw invalid("topic", "not a job topic: " + topic, fallbackId, null, replyTo, correlation);
        }
        if (payload.length > MAX_IMAGE_JOB_BYTES) {
            throw invalid("payload", "larger than " + MAX_IMAGE_JOB_BYTES + " bytes", fallbackId, model, replyTo, correlation);
        }
        JsonObject o;
        try {
            o = JsonFields.parseObject(new String(payload, StandardCharsets.UTF_8));
        } catch (JsonParseException | IllegalStateException | StackOverflowError e) {
            throw invalid("payload", "not a JSON object", fallbackId, model, replyTo, correlation);
        }
        JsonFields f = new JsonFields(o, "");
        // Read id and reply topic first: every later error is answered there.
        String id;
        try {
            id = f.optString("id", 1, 128);
            if (id != null && !Topics.isSegment(id)) {
                throw new FieldException("id", "must match [A-Za-z0-9._:-]{1,128}");
            }
        } catch (FieldException e) {
            throw invalid(e.field(), e.getMessage(), fallbackId, model, replyTo, correlation);
        }
        if (id == null) {
            id = fallbackId;
        }
        if (responseTopic == null) {
            replyTo = Topics.defaultResult(model, id);
        }
        try {
            if (responseTopic == null) {
                String jsonReply = f.optString("reply_to", 1, 512);
                if (jsonReply != null) {
                    Optional<String> problem = Topics.replyTopicProblem(jsonReply);
                    if (problem.isPresent()) {
                        throw new FieldException("reply_to", problem.get());
                    }
                    replyTo = jsonReply;
                }
            }
            Integer v = f.optInt("v", 1, Integer.MAX_VALUE);
            if (v != null && v != VERSION) {
                throw new FieldException("v", "version " + v + " is not supported; this worker speaks " + VERSION);
            }
            String jsonModel = f.optString("model", 1, 128);
            if (jsonModel != null && !jsonModel.equals(model)) {
                throw new FieldException("model", "'" + jsonModel + "' does not match the topic's model '" + model + "'");
            }
            String taskName = f.optString("task", 1, 32);
            Task task = taskName == null ? Task.CHAT : WireName.parse(Task.class, taskName)
                    .orElseThrow(() -> new FieldException("task", "unknown task '" + taskName + "'; known: chat, txt2img, img2img, interrogate"));
            if (!task.isImage() && payload.length > MAX_JOB_BYTES) {
                throw new FieldException("payload", "larger than " + MAX_JOB_BYTES + " bytes (a chat job)");
            }
            Instant createdAt = f.optInstant("created_at");
            Instant expiresAt = f.optInstant("expires_at");
            Boolean stream = f.optBool("stream");
            JsonObject params = f.requireObject("params");
            TaskParams taskParams = switch (task) {
                case CHAT -> decodeChat(new JsonFields(params, "params."));
                case TXT2IMG, IMG2IMG -> decodeImage(task, new JsonFields(params, "params."));
                case INTERROGATE -> decodeInterrogate(new JsonFields(params, "params."));
            };
            return new Job(id, model, taskParams, replyTo, correlation, createdAt, expiresAt, Boolean.TRUE.equals(stream));
        } catch (FieldException e) {
            throw invalid(e.field(), e.getMessage(), id, model, replyTo, correlation);
        }
    }

    private static ImageParams decodeImage(Task task, JsonFields f) throws FieldException {
        String prompt = f.optString("prompt", 0, MAX_PROMPT_CHARS);
        if (prompt == null) {
            throw new FieldException(f.prefix() + "prompt", "required (it may be empty)");
        }
        Long seed = f.optLong("seed");
        String init = task == Task.IMG2IMG ? image(f, "init_image") : null;
        Integer resize = f.optInt("resize_mode", 0, 2);
        return new ImageParams(task, prompt,
                f.optString("negative_prompt", 0, MAX_PROMPT_CHARS),
                seed == null || seed == -1 ? null : seed,
                side(f, "width"),
                side(f, "height"),
                f.optInt("steps", 1, 1000),
                f.optDouble("cfg_scale", 0, 100),
                f.optString("sampler_name", 0, 64),
                init,
                f.optDouble("denoising_strength", 0, 1),
                resize == null ? ResizeMode.STRETCH : ResizeMode.ofNumber(resize));
    }

    private static int side(JsonFields f, String key) throws FieldException {
        Integer v = f.optInt(key, 1, ImageParams.MAX_SIDE);
        return v == null ? ImageParams.DEFAULT_SIDE : v;
    }

    /** A required base64 image: its characters are checked here, its content by the worker that decodes it. */
    private static String image(JsonFields f, String key) throws FieldException {
        String b64 = f.optString(key, 1, ImageParams.MAX_IMAGE_BASE64);
        if (b64 == null) {
            throw new FieldException(f.prefix() + key, "required: a base64 PNG or JPEG of at most "
                    + ImageParams.MAX_IMAGE_BASE64 + " characters");
        }
        try {
            ImageParams.decodeBase64(b64);
        } catch (IllegalArgumentException e) {
            throw new FieldException(f.prefix() + key, "not base64: " + e.getMessage());
        }
        return b64;
    }

    private static InterrogateParams decodeInterrogate(JsonFields f) throws FieldException {
        String image = image(f, "image");
        JsonElement c = f.get("categories");
        if (c == null) {
            return new InterrogateParams(image, null);
        }
        if (!c.isJsonObject() || c.getAsJsonObject().size() == 0 || c.getAsJsonObject().size() > InterrogateParams.MAX_CATEGORIES) {
            throw new FieldException(f.prefix() + "categories", "must be an object of 1 to " + InterrogateParams.MAX_CATEGORIES
                    + " categories, each a list of terms");
        }
        JsonFields cf = new JsonFields(c.getAsJsonObject(), f.prefix() + "categories.");
        Map<String, List<String>> categories = new LinkedHashMap<>();
        for (String name : c.getAsJsonObject().keySet()) {
            List<String> terms = cf.optStringList(name, InterrogateParams.MAX_TERMS, InterrogateParams.MAX_TERM_LENGTH);
            if (terms.isEmpty() || name.isEmpty() || name.length() > InterrogateParams.MAX_TERM_LENGTH) {
                throw new FieldException(cf.prefix() + name, "a category needs a name of 1 to " + InterrogateParams.MAX_TERM_LENGTH
                        + " characters and 1 to " + InterrogateParams.MAX_TERMS + " terms");
            }
            categories.put(name, terms);
        }
        return new InterrogateParams(image, categories);
    }

    private static ChatParams decodeChat(JsonFields f) throws FieldException {
        List<ChatMessage> messages = new ArrayList<>();
        String system = f.optString("system", 0, Integer.MAX_VALUE);
        if (system != null) {
            messages.add(ChatMessage.system(system));
        }
        List<JsonFields> list = f.optObjects("messages", MAX_MESSAGES);
        String prompt = f.optString("prompt", 0, Integer.MAX_VALUE);
        if (f.get("messages") != null) {
            if (prompt != null) {
                throw new FieldException(f.prefix() + "prompt", "give either messages or prompt, not both");
            }
            if (list.isEmpty()) {
                throw new FieldException(f.prefix() + "messages", "must hold 1 to " + MAX_MESSAGES + " messages");
            }
            for (JsonFields m : list) {
                String role = m.requireString("role");
                if (!ROLES.contains(role)) {
                    throw new FieldException(m.prefix() + "role", "must be one of " + ROLES);
                }
                messages.add(new ChatMessage(role, m.requireString("content")));
            }
        } else if (prompt != null) {
            messages.add(ChatMessage.user(prompt));
        } else {
            throw new FieldException(f.prefix() + "messages", "required (or a prompt string)");
        }
        return new ChatParams(
                messages,
                f.optDouble("temperature", 0, 2),
                f.optDouble("top_p", 0, 1),
                f.optInt("top_k", 0, 1_000_000),
                f.optInt("max_tokens", 1, MAX_TOKENS_LIMIT),
                f.optStringList("stop", MAX_STOP_SEQUENCES, MAX_STOP_LENGTH),
                f.optLong("seed"),
                f.optDouble("presence_penalty", -2, 2),
                f.optDouble("frequency_penalty", -2, 2),
                f.optDouble("repeat_penalty", 0, 10),
                Boolean.TRUE.equals(f.optBool("think")));
    }

    private static String usableReplyTo(String responseTopic, String model, String id) {
        if (responseTopic != null && Topics.replyTopicProblem(responseTopic).isEmpty()) {
            return responseTopic;
        }
        return model == null ? null : Topics.defaultResult(model, id);
    }

    /** A job id taken from correlation data, when that data is a usable id. */
    private static String idFromCorrelation(byte[] correlation) {
        if (correlation == null) {
            return null;
        }
        String s = new String(correlation, StandardCharsets.UTF_8);
        return Topics.isSegment(s) ? s : null;
    }

    private static InvalidJobException invalid(String field, String message, String id, String model, String replyTo, byte[] correlation) {
        return new InvalidJobException(JobError.invalid(field, message), id, model, replyTo, correlation);
    }

    // ---- replies ----

    public static byte[] encodeDelta(JobDelta d) {
        JsonObject o = new JsonObject();
        o.addProperty("v", VERSION);
        o.addProperty("type", "delta");
        o.addProperty("id", d.id());
        o.addProperty("seq", d.seq());
        o.addProperty("text", d.text());
        if (d.thinking()) {
            o.addProperty("thinking", true);
        }
        return bytes(o);
    }

    public static byte[] encodeResult(JobResult r) {
        JsonObject o = new JsonObject();
        o.addProperty("v", VERSION);
        o.addProperty("type", "result");
        o.addProperty("id", r.id());
        o.addProperty("model", r.model());
        o.addProperty("outcome", r.outcome().wire());
        if (r.text() != null) {
            o.addProperty("text", r.text());
        }
        if (r.finishReason() != null) {
            o.addProperty("finish_reason", r.finishReason().wire());
        }
        if (r.usage() != null) {
            JsonObject u = new JsonObject();
            u.addProperty("prompt_tokens", r.usage().promptTokens());
            u.addProperty("completion_tokens", r.usage().completionTokens());
            u.addProperty("total_tokens", r.usage().totalTokens());
            if (r.usage().estimated()) {
                u.addProperty("estimated", true);
            }
            o.add("usage", u);
        }
        addIfSet(o, "queue_ms", r.queueMs());
        o.addProperty("run_ms", r.runMs());
        addIfSet(o, "first_token_ms", r.firstTokenMs());
        if (r.droppedMessages() > 0) {
            o.addProperty("dropped_messages", r.droppedMessages());
        }
        if (r.error() != null) {
            JsonObject e = new JsonObject();
            e.addProperty("code", r.error().code());
            e.addProperty("message", r.error().message());
            if (r.error().field() != null) {
                e.addProperty("field", r.error().field());
            }
            o.add("error", e);
        }
        if (r.worker() != null) {
            o.addProperty("worker", r.worker());
        }
        if (r.thinking() != null) {
            o.addProperty("thinking", r.thinking());
        }
        if (!r.warnings().isEmpty()) {
            JsonArray w = new JsonArray();
            r.warnings().forEach(w::add);
            o.add("warnings", w);
        }
        encodeOutput(o, r.output());
        return bytes(o);
    }

    private static void encodeOutput(JsonObject o, TaskOutput output) {
        if (output instanceof TaskOutput.Images i) {
            JsonArray images = new JsonArray();
            i.png().forEach(images::add);
            o.add("images", images);
            o.addProperty("seed", i.seed());
            o.addProperty("info", i.info());
        } else if (output instanceof TaskOutput.Interrogation i) {
            o.addProperty("caption", i.caption());
            JsonArray tags = new JsonArray();
            for (TaskOutput.Tag t : i.tags()) {
                JsonObject to = new JsonObject();
                to.addProperty("tag", t.tag());
                to.addProperty("score", t.score());
                tags.add(to);
            }
            o.add("interrogations", tags);
            if (!i.winners().isEmpty()) {
                JsonObject results = new JsonObject();
                i.winners().forEach((name, w) -> {
                    JsonObject wo = new JsonObject();
                    wo.addProperty("winner", w.winner());
                    wo.addProperty("confidence", w.confidence());
                    results.add(name, wo);
                });
                o.add("results", results);
            }
        }
    }

    private static TaskOutput decodeOutput(JsonObject o) {
        if (o.has("images")) {
            List<String> png = new ArrayList<>();
            o.getAsJsonArray("images").forEach(e -> png.add(e.getAsString()));
            return new TaskOutput.Images(png, o.get("seed").getAsLong(), string(o, "info"));
        }
        if (o.has("interrogations")) {
            List<TaskOutput.Tag> tags = new ArrayList<>();
            o.getAsJsonArray("interrogations").forEach(e -> tags.add(new TaskOutput.Tag(string(e.getAsJsonObject(), "tag"),
                    e.getAsJsonObject().get("score").getAsDouble())));
            Map<String, TaskOutput.Winner> winners = new LinkedHashMap<>();
            if (o.has("results")) {
                o.getAsJsonObject("results").entrySet().forEach(e -> winners.put(e.getKey(), new TaskOutput.Winner(
                        string(e.getValue().getAsJsonObject(), "winner"), e.getValue().getAsJsonObject().get("confidence").getAsDouble())));
            }
            return new TaskOutput.Interrogation(string(o, "caption"), tags, winners);
        }
        return null;
    }

    /** Reads a delta or result published by a worker. */
    public static Reply decodeReply(byte[] payload) {
        JsonObject o = JsonFields.parseObject(new String(payload, StandardCharsets.UTF_8));
        String type = string(o, "type");
        String id = string(o, "id");
        if ("delta".equals(type)) {
            return new JobDelta(id, o.get("seq").getAsInt(), string(o, "text"), o.has("thinking") && o.get("thinking").getAsBoolean());
        }
        if (!"result".equals(type)) {
            throw new JsonParseException("not a reply: type " + type);
        }
        Outcome outcome = WireName.parse(Outcome.class, string(o, "outcome"))
                .orElseThrow(() -> new JsonParseException("unknown outcome " + o.get("outcome")));
        FinishReason finish = o.has("finish_reason") ? WireName.parse(FinishReason.class, string(o, "finish_reason")).orElse(null) : null;
        Usage usage = null;
        if (o.has("usage")) {
            JsonObject u = o.getAsJsonObject("usage");
            usage = new Usage(u.get("prompt_tokens").getAsInt(), u.get("completion_tokens").getAsInt(),
                    u.has("estimated") && u.get("estimated").getAsBoolean());
        }
        JobError error = null;
        if (o.has("error")) {
            JsonObject e = o.getAsJsonObject("error");
            error = new JobError(string(e, "code"), string(e, "message"), string(e, "field"));
        }
        Long queueMs = o.has("queue_ms") ? o.get("queue_ms").getAsLong() : null;
        long runMs = o.has("run_ms") ? o.get("run_ms").getAsLong() : 0;
        Long firstTokenMs = o.has("first_token_ms") ? o.get("first_token_ms").getAsLong() : null;
        return new JobResult(id, string(o, "model"), outcome, string(o, "text"), finish, usage, queueMs, runMs, firstTokenMs, error,
                string(o, "worker"), o.has("dropped_messages") ? o.get("dropped_messages").getAsInt() : 0, decodeOutput(o), string(o, "thinking"),
                warnings(o));
    }

    private static java.util.List<String> warnings(JsonObject o) {
        if (!o.has("warnings") || !o.get("warnings").isJsonArray()) {
            return java.util.List.of();
        }
        java.util.List<String> out = new java.util.ArrayList<>();
        o.getAsJsonArray("warnings").forEach(e -> out.add(e.getAsString()));
        return out;
    }

    // ---- job status, worker state, cancel ----

    public static byte[] encodeStatus(JobStatus s) {
        JsonObject o = new JsonObject();
        o.addProperty("v", VERSION);
        o.addProperty("id", s.id());
        o.addProperty("model", s.model());
        o.addProperty("state", s.state().wire());
        o.addProperty("worker", s.worker());
        o.addProperty("at", s.at().toEpochMilli());
        addIfSet(o, "step", s.step());
        addIfSet(o, "steps", s.steps());
        return bytes(o);
    }

    /** Reads a job status published by a worker. */
    public static JobStatus decodeStatus(byte[] payload) {
        JsonObject o = JsonFields.parseObject(new String(payload, StandardCharsets.UTF_8));
        JobState state = WireName.parse(JobState.class, string(o, "state"))
                .orElseThrow(() -> new JsonParseException("unknown state " + o.get("state")));
        return new JobStatus(string(o, "id"), string(o, "model"), state, string(o, "worker"), Instant.ofEpochMilli(o.get("at").getAsLong()),
                o.has("step") ? o.get("step").getAsInt() : null, o.has("steps") ? o.get("steps").getAsInt() : null);
    }

    public static byte[] encodeWorkerState(WorkerState s) {
        JsonObject o = new JsonObject();
        o.addProperty("v", VERSION);
        o.addProperty("worker", s.worker());
        o.addProperty("model", s.model());
        o.addProperty("phase", s.phase().wire());
        if (s.runtime() != null) {
            o.addProperty("runtime", s.runtime());
        }
        o.addProperty("emulated", s.emulated());
        o.addProperty("context_tokens", s.contextTokens());
        o.addProperty("jobs_done", s.jobsDone());
        o.addProperty("jobs_failed", s.jobsFailed());
        o.addProperty("strikes", s.strikes());
        o.addProperty("queued", s.queued());
        if (s.lastError() != null) {
            o.addProperty("last_error", s.lastError());
        }
        if (s.since() != null) {
            o.addProperty("since", s.since().toEpochMilli());
        }
        if (s.card() != null) {
            o.addProperty("host", s.card().host());
            o.addProperty("card", s.card().index());
        }
        if (s.held() != null) {
            o.addProperty("held", s.held());
        }
        JsonArray pids = new JsonArray();
        s.runtimePids().forEach(pids::add);
        o.add("runtime_pids", pids);
        return bytes(o);
    }

    public static WorkerState decodeWorkerState(byte[] payload) {
        JsonObject o = JsonFields.parseObject(new String(payload, StandardCharsets.UTF_8));
        List<Long> pids = new ArrayList<>();
        if (o.has("runtime_pids") && o.get("runtime_pids").isJsonArray()) {
            o.getAsJsonArray("runtime_pids").forEach(e -> pids.add(e.getAsLong()));
        }
        return new WorkerState(
                string(o, "worker"),
                string(o, "model"),
                WireName.parse(WorkerState.Phase.class, string(o, "phase")).orElseThrow(() -> new JsonParseException("unknown phase " + o.get("phase"))),
                string(o, "runtime"),
                o.has("emulated") && o.get("emulated").getAsBoolean(),
                o.has("context_tokens") ? o.get("context_tokens").getAsInt() : 0,
                o.has("jobs_done") ? o.get("jobs_done").getAsLong() : 0,
                o.has("jobs_failed") ? o.get("jobs_failed").getAsLong() : 0,
                o.has("strikes") ? o.get("strikes").getAsLong() : 0,
                string(o, "last_error"),
                o.has("since") ? Instant.ofEpochMilli(o.get("since").getAsLong()) : null,
                o.has("host") && o.has("card") ? new CardRef(string(o, "host"), o.get("card").getAsInt()) : null,
                string(o, "held"),
                pids,
                o.has("queued") ? o.get("queued").getAsInt() : 0);
    }

    public static byte[] encodeCancel(String jobId) {
        JsonObject o = new JsonObject();
        o.addProperty("v", VERSION);
        o.addProperty("id", jobId);
        return bytes(o);
    }

    /** The job id a cancel request names, or empty when the payload is not a cancel request. */
    public static Optional<String> decodeCancel(byte[] payload) {
        try {
            String id = string(JsonFields.parseObject(new String(payload, StandardCharsets.UTF_8)), "id");
            return Topics.isSegment(id) ? Optional.of(id) : Optional.empty();
        } catch (RuntimeException | StackOverflowError e) {
            return Optional.empty();
        }
    }

    // ---- helpers ----

    private static String string(JsonObject o, String key) {
        JsonElement e = o.get(key);
        return e == null || e.isJsonNull() ? null : e.getAsString();
    }

    private static byte[] bytes(JsonObject o) {
        return o.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static void addIfSet(JsonObject o, String key, Number value) {
        if (value != null) {
            o.addProperty(key, value);
        }
    }
}
