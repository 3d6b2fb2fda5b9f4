package dev.axfleet.broker.residency;

import com.google.gson.JsonObject;
import dev.axfleet.broker.JsonFields;
import dev.axfleet.broker.Topics;
import dev.axfleet.broker.WireCodec;
import dev.axfleet.broker.WireName;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Optional;

/** How load and unload requests and their answers are written on the wire (docs/protocol.md, "Loading and unloading"). */
public final class ResidencyCodec {
    private static final int MAX_TEXT = 1000;

    private ResidencyCodec() {
    }

    /** Where a gateway's residency answers come: inside its reply namespace, apart from job replies. */
    public static String replyTopic(String clientId, String requestId) {
        return Topics.reply(clientId, "residency") + "/" + requestId;
    }

    public static boolean isReplyTopic(String topic) {
        return topic.startsWith(Topics.ROOT + "/reply/") && topic.contains("/residency/");
    }

    public static byte[] encodeRequest(ResidencyRequest r) {
        JsonObject o = new JsonObject();
        o.addProperty("v", WireCodec.VERSION);
        o.addProperty("action", r.action().wire());
        if (r.id() != null) {
            o.addProperty("id", r.id());
        }
        if (r.replyTo() != null) {
            o.addProperty("reply_to", r.replyTo());
        }
        if (r.keepAlive() != null) {
            o.addProperty("keep_alive", r.keepAlive().seconds());
        }
        if (r.by() != null) {
            o.addProperty("by", r.by());
        }
        if (r.reason() != null) {
            o.addProperty("reason", r.reason());
        }
        o.addProperty("at", r.at().toEpochMilli());
        if (r.expiresAt() != null) {
            o.addProperty("expires_at", r.expiresAt().toEpochMilli());
        }
        return bytes(o);
    }

    /** The load or unload request in a control payload; empty when it is another command or unreadable. */
    public static Optional<ResidencyRequest> decodeRequest(byte[] payload) {
        try {
            JsonObject o = JsonFields.parseObject(new String(payload, StandardCharsets.UTF_8));
            Optional<ResidencyRequest.Action> action = WireName.parse(ResidencyRequest.Action.class, string(o, "action"));
            if (action.isEmpty()) {
                return Optional.empty();
            }
            String replyTo = string(o, "reply_to");
            if (replyTo != null && Topics.replyTopicProblem(replyTo).isPresent()) {
                replyTo = null;
            }
            String id = string(o, "id");
            KeepAlive keep = o.has("keep_alive") && !o.get("keep_alive").isJsonNull() ? KeepAlive.parse(o.get("keep_alive")) : null;
            return Optional.of(new ResidencyRequest(action.get(), id != null && Topics.isSegment(id) ? id : null, replyTo, keep,
                    limit(string(o, "by")), limit(string(o, "reason")), instant(o, "at", Instant.now()), instant(o, "expires_at", null)));
        } catch (RuntimeException | StackOverflowError e) {
            return Optional.empty();
        }
    }

    public static byte[] encodeReply(ResidencyReply r) {
        JsonObject o = new JsonObject();
        o.addProperty("v", WireCodec.VERSION);
        o.addProperty("type", "residency");
        o.addProperty("id", r.id());
        o.addProperty("model", r.model());
        o.addProperty("worker", r.worker());
        o.addProperty("outcome", r.outcome().wire());
        if (r.outcome() == ResidencyReply.Outcome.LOADED) {
            o.addProperty("load_ms", r.loadMs());
        }
        if (r.message() != null) {
            o.addProperty("message", r.message());
        }
        o.addProperty("at", r.at().toEpochMilli());
        return bytes(o);
    }

    public static ResidencyReply decodeReply(byte[] payload) {
        JsonObject o = JsonFields.parseObject(new String(payload, StandardCharsets.UTF_8));
        ResidencyReply.Outcome outcome = WireName.parse(ResidencyReply.Outcome.class, string(o, "outcome"))
                .orElse(ResidencyReply.Outcome.FAILED);
        return new ResidencyReply(string(o, "id"), string(o, "model"), string(o, "worker"), outcome,
                o.has("load_ms") ? o.get("load_ms").getAsLong() : 0, string(o, "message"), instant(o, "at", Instant.now()));
    }

    /** The residency fields of a worker's retained state, written into it. */
    public static void writeResidence(Residence r, JsonObject into) {
        into.addProperty("cmm_mib", r.cmmMiB());
        into.addProperty("pinned", r.pinned());
        into.addProperty("keep_alive", r.keepAlive().seconds());
        if (r.lastUsed() != null) {
            into.addProperty("last_used", r.lastUsed().toEpochMilli());
        }
        if (r.expiresAt() != null) {
            into.addProperty("expires_at", r.expiresAt().toEpochMilli());
        }
    }

    /** The residency fields of a worker's retained state; null when it has none (a worker from before them). */
    public static Residence readResidence(JsonObject o) {
        if (!o.has("cmm_mib") && !o.has("keep_alive")) {
            return null;
        }
        KeepAlive keep = o.has("keep_alive") && o.get("keep_alive").isJsonPrimitive() && o.get("keep_alive").getAsJsonPrimitive().isNumber()
                ? KeepAlive.seconds(new BigDecimal(o.get("keep_alive").getAsString())) : KeepAlive.FOREVER;
        return new Residence(o.has("cmm_mib") ? o.get("cmm_mib").getAsLong() : 0, o.has("pinned") && o.get("pinned").getAsBoolean(), keep,
                instant(o, "last_used", null), instant(o, "expires_at", null));
    }

    private static Instant instant(JsonObject o, String key, Instant otherwise) {
        return o.has(key) && o.get(key).isJsonPrimitive() ? Instant.ofEpochMilli(o.get(key).getAsLong()) : otherwise;
    }

    private static String string(JsonObject o, String key) {
        return o.has(key) && o.get(key).isJsonPrimitive() ? o.get(key).getAsString() : null;
    }

    private static String limit(String s) {
        return s == null || s.length() <= MAX_TEXT ? s : s.substring(0, MAX_TEXT);
    }

    private static byte[] bytes(JsonObject o) {
        return o.toString().getBytes(StandardCharsets.UTF_8);
    }
}
