package dev.axfleet.broker;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
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
    /** The largest job payload of any kind, in bytes; each kind's own limit ({@link KindCodec#maxJobBytes()}) applies once its task is read. */
    public static final int MAX_ANY_JOB_BYTES = java.util.Arrays.stream(Kind.values()).mapToInt(k -> k.codec().maxJobBytes()).max().orElseThrow();
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
        if (job.keepAlive() != null) {
            o.addProperty("keep_alive", job.keepAlive().seconds());
        }
        o.add("params", job.kind().codec().encodeParams(job.params()));
        return bytes(o);
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
        if (payload.length > MAX_ANY_JOB_BYTES) {
            throw invalid("payload", "larger than " + MAX_ANY_JOB_BYTES + " bytes", fallbackId, model, replyTo, correlation);
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
                    .orElseThrow(() -> new FieldException("task", "unknown task '" + taskName + "'; known: " + Task.known()));
            int limit = task.kind().codec().maxJobBytes();
            if (payload.length > limit) {
                throw new FieldException("payload", "larger than " + limit + " bytes (a " + task.wire() + " job)");
            }
            Instant createdAt = f.optInstant("created_at");
            Instant expiresAt = f.optInstant("expires_at");
            Boolean stream = f.optBool("stream");
            dev.axfleet.broker.residency.KeepAlive keepAlive = null;
            if (f.get("keep_alive") != null && !f.get("keep_alive").isJsonNull()) {
                try {
                    keepAlive = dev.axfleet.broker.residency.KeepAlive.parse(f.get("keep_alive"));
                } catch (IllegalArgumentException e) {
                    throw new FieldException("keep_alive", e.getMessage());
                }
            }
            JsonObject params = f.requireObject("params");
            TaskParams taskParams = task.kind().codec().decodeParams(task, new JsonFields(params, "params."));
            return new Job(id, model, taskParams, replyTo, correlation, createdAt, expiresAt, Boolean.TRUE.equals(stream), keepAlive,
                    Topics.priorityOfJobTopic(topic).orElseThrow());
        } catch (FieldException e) {
            throw invalid(e.field(), e.getMessage(), id, model, replyTo, correlation);
        }
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

    /** An audio delta: {@code {"v":1,"type":"audio","id","seq","audio":base64}}, with {@code "last":true} on the last. */
    public static byte[] encodeAudio(AudioChunk c) {
        JsonObject o = new JsonObject();
        o.addProperty("v", VERSION);
        o.addProperty("type", "audio");
        o.addProperty("id", c.id());
        o.addProperty("seq", c.seq());
        o.addProperty("audio", java.util.Base64.getEncoder().encodeToString(c.audio()));
        if (c.last()) {
            o.addProperty("last", true);
        }
        return bytes(o);
    }

    public static byte[] encodeResult(JobResult r) {
        JsonObject o = new JsonObject();
        o.addProperty("v", VERSION);
        o.addProperty("type", "result");
        o.addProperty("id", r.id());
        o.addProperty("model", r.model());
        if (r.task() != null) {
            o.addProperty("task", r.task().wire());
        }
        o.addProperty("outcome", r.outcome().wire());
        addIfSet(o, "queue_ms", r.queueMs());
        o.addProperty("run_ms", r.runMs());
        if (r.error() != null) {
            JsonObject e = new JsonObject();
            e.addProperty("code", r.error().code().wire());
            e.addProperty("message", r.error().message());
            if (r.error().field() != null) {
                e.addProperty("field", r.error().field());
            }
            if (r.error().detail() != null) {
                e.addProperty("detail", r.error().detail());
            }
            o.add("error", e);
        }
        if (r.worker() != null) {
            o.addProperty("worker", r.worker());
        }
        if (!r.warnings().isEmpty()) {
            JsonArray w = new JsonArray();
            r.warnings().forEach(w::add);
            o.add("warnings", w);
        }
        if (r.output() != null) {
            r.output().kind().codec().encodeOutput(r.output(), o);
        }
        return bytes(o);
    }

    /** Reads a delta (text or audio) or result published by a worker. */
    public static Reply decodeReply(byte[] payload) {
        JsonObject o = JsonFields.parseObject(new String(payload, StandardCharsets.UTF_8));
        String type = string(o, "type");
        String id = string(o, "id");
        if ("delta".equals(type)) {
            return new JobDelta(id, o.get("seq").getAsInt(), string(o, "text"), o.has("thinking") && o.get("thinking").getAsBoolean());
        }
        if ("audio".equals(type)) {
            return new AudioChunk(id, o.get("seq").getAsInt(), java.util.Base64.getDecoder().decode(string(o, "audio")),
                    o.has("last") && o.get("last").getAsBoolean());
        }
        if (!"result".equals(type)) {
            throw new JsonParseException("not a reply: type " + type);
        }
        Outcome outcome = WireName.parse(Outcome.class, string(o, "outcome"))
                .orElseThrow(() -> new JsonParseException("unknown outcome " + o.get("outcome")));
        // A result without a task is a chat result, as a job without one is a chat job.
        Task task = o.has("task") ? WireName.parse(Task.class, string(o, "task"))
                .orElseThrow(() -> new JsonParseException("unknown task " + o.get("task"))) : Task.CHAT;
        JobError error = null;
        if (o.has("error")) {
            JsonObject e = o.getAsJsonObject("error");
            error = new JobError(ErrorCode.of(string(e, "code")), string(e, "message"), string(e, "field"), string(e, "detail"));
        }
        Long queueMs = o.has("queue_ms") ? o.get("queue_ms").getAsLong() : null;
        long runMs = o.has("run_ms") ? o.get("run_ms").getAsLong() : 0;
        TaskOutput output = outcome == Outcome.DONE ? task.kind().codec().decodeOutput(o) : null;
        return new JobResult(id, string(o, "model"), task, outcome, output, error, queueMs, runMs, string(o, "worker"), warnings(o));
    }

    private static List<String> warnings(JsonObject o) {
        if (!o.has("warnings") || !o.get("warnings").isJsonArray()) {
            return List.of();
        }
        List<String> out = new ArrayList<>();
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
        JsonArray tasks = new JsonArray();
        s.tasks().forEach(t -> tasks.add(t.wire()));
        o.add("tasks", tasks);
        JsonArray capabilities = new JsonArray();
        s.capabilities().forEach(c -> capabilities.add(c.wire()));
        o.add("capabilities", capabilities);
        if (s.residence() != null) {
            dev.axfleet.broker.residency.ResidencyCodec.writeResidence(s.residence(), o);
        }
        if (!s.voices().isEmpty()) {
            JsonArray voices = new JsonArray();
            s.voices().forEach(voices::add);
            o.add("voices", voices);
        }
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
                o.has("queued") ? o.get("queued").getAsInt() : 0,
                names(o, "tasks", Task.class),
                names(o, "capabilities", Capability.class),
                voices(o),
                dev.axfleet.broker.residency.ResidencyCodec.readResidence(o));
    }

    private static List<String> voices(JsonObject o) {
        List<String> out = new ArrayList<>();
        if (o.has("voices") && o.get("voices").isJsonArray()) {
            o.getAsJsonArray("voices").forEach(e -> out.add(e.getAsString()));
        }
        return out;
    }

    /** The tasks or capabilities a worker announced; unknown names (a newer worker) are left out. */
    private static <E extends Enum<E> & WireName> java.util.Set<E> names(JsonObject o, String key, Class<E> type) {
        java.util.Set<E> out = java.util.EnumSet.noneOf(type);
        if (o.has(key) && o.get(key).isJsonArray()) {
            o.getAsJsonArray(key).forEach(e -> WireName.parse(type, e.getAsString()).ifPresent(out::add));
        }
        return out;
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
