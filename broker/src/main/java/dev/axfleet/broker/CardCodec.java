package dev.axfleet.broker;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The JSON envelopes of the monitor's topics: card health, card events and control commands. Written by
 * axfleet; commands are read leniently (an unreadable one is ignored, never acted on).
 */
public final class CardCodec {
    private CardCodec() {
    }

    public static byte[] encodeHealth(CardHealth h) {
        return bytes(healthJson(h));
    }

    /** Card health as the JSON object {@link #encodeHealth} sends (for views that embed it, such as /health). */
    public static JsonObject healthJson(CardHealth h) {
        JsonObject o = new JsonObject();
        o.addProperty("v", WireCodec.VERSION);
        o.addProperty("host", h.card().host());
        o.addProperty("card", h.card().index());
        o.addProperty("state", h.state().wire());
        CardReadings r = h.readings();
        put(o, "device_id", r.deviceId());
        put(o, "temperature_c", r.temperatureC());
        put(o, "memory_used_mib", r.memoryUsedMiB());
        put(o, "memory_total_mib", r.memoryTotalMiB());
        put(o, "cmm_used_mib", r.cmmUsedMiB());
        put(o, "cmm_total_mib", r.cmmTotalMiB());
        put(o, "cpu_percent", r.cpuPercent());
        put(o, "npu_percent", r.npuPercent());
        JsonArray ps = new JsonArray();
        for (CardProcess p : r.processes()) {
            JsonObject po = new JsonObject();
            po.addProperty("pid", p.pid());
            po.addProperty("name", p.name());
            po.addProperty("npu_memory_kib", p.npuMemoryKiB());
            ps.add(po);
        }
        o.add("processes", ps);
        if (h.probe() != null) {
            o.addProperty("probe", h.probe());
        }
        o.addProperty("emulated", h.emulated());
        if (h.detail() != null) {
            o.addProperty("detail", h.detail());
        }
        if (h.needsPerson() != null) {
            o.addProperty("needs_person", h.needsPerson());
        }
        if (h.at() != null) {
            o.addProperty("at", h.at().toEpochMilli());
        }
        return o;
    }

    public static CardHealth decodeHealth(byte[] payload) {
        JsonObject o = JsonFields.parseObject(new String(payload, StandardCharsets.UTF_8));
        List<CardProcess> processes = new ArrayList<>();
        if (o.has("processes") && o.get("processes").isJsonArray()) {
            for (JsonElement e : o.getAsJsonArray("processes")) {
                JsonObject p = e.getAsJsonObject();
                processes.add(new CardProcess(p.get("pid").getAsLong(), string(p, "name"), p.get("npu_memory_kib").getAsLong()));
            }
        }
        CardReadings readings = new CardReadings(
                o.has("device_id") ? o.get("device_id").getAsInt() : null,
                o.has("temperature_c") ? o.get("temperature_c").getAsDouble() : null,
                longOrNull(o, "memory_used_mib"),
                longOrNull(o, "memory_total_mib"),
                longOrNull(o, "cmm_used_mib"),
                longOrNull(o, "cmm_total_mib"),
                o.has("cpu_percent") ? o.get("cpu_percent").getAsInt() : null,
                o.has("npu_percent") ? o.get("npu_percent").getAsInt() : null,
                processes);
        return new CardHealth(
                new CardRef(string(o, "host"), o.get("card").getAsInt()),
                WireName.parse(CardState.class, string(o, "state")).orElse(CardState.UNKNOWN),
                readings,
                string(o, "probe"),
                o.has("emulated") && o.get("emulated").getAsBoolean(),
                string(o, "detail"),
                string(o, "needs_person"),
                o.has("at") ? Instant.ofEpochMilli(o.get("at").getAsLong()) : null);
    }

    /** What the broker publishes for a card whose monitor's connection died: nobody is watching it. */
    public static byte[] unwatched(CardRef card) {
        return encodeHealth(new CardHealth(card, CardState.UNKNOWN, CardReadings.NONE, null, false, "the monitor is offline", null, null));
    }

    public static byte[] encodeEvent(CardEvent e) {
        JsonObject o = new JsonObject();
        o.addProperty("v", WireCodec.VERSION);
        o.addProperty("host", e.card().host());
        o.addProperty("card", e.card().index());
        o.addProperty("step", e.step());
        o.addProperty("result", e.result());
        if (e.detail() != null) {
            o.addProperty("detail", e.detail());
        }
        o.addProperty("at", e.at().toEpochMilli());
        return bytes(o);
    }

    public static CardEvent decodeEvent(byte[] payload) {
        JsonObject o = JsonFields.parseObject(new String(payload, StandardCharsets.UTF_8));
        return new CardEvent(new CardRef(string(o, "host"), o.get("card").getAsInt()), string(o, "step"), string(o, "result"),
                string(o, "detail"), Instant.ofEpochMilli(o.get("at").getAsLong()));
    }

    public static byte[] encodeCommand(Command c) {
        JsonObject o = new JsonObject();
        o.addProperty("v", WireCodec.VERSION);
        o.addProperty("action", c.action());
        if (c.reason() != null) {
            o.addProperty("reason", c.reason());
        }
        if (c.by() != null) {
            o.addProperty("by", c.by());
        }
        o.addProperty("at", c.at().toEpochMilli());
        return bytes(o);
    }

    /** The command in a payload, or empty when it is not one (control topics ignore anything else). */
    public static Optional<Command> decodeCommand(byte[] payload) {
        try {
            JsonObject o = JsonFields.parseObject(new String(payload, StandardCharsets.UTF_8));
            String action = string(o, "action");
            if (action == null) {
                return Optional.empty();
            }
            Instant at = o.has("at") ? Instant.ofEpochMilli(o.get("at").getAsLong()) : Instant.now();
            return Optional.of(new Command(action, limit(string(o, "reason")), limit(string(o, "by")), at));
        } catch (RuntimeException | StackOverflowError e) {
            return Optional.empty();
        }
    }

    private static String limit(String s) {
        return s == null || s.length() <= 200 ? s : s.substring(0, 200);
    }

    private static void put(JsonObject o, String key, Number value) {
        if (value != null) {
            o.addProperty(key, value);
        }
    }

    private static Long longOrNull(JsonObject o, String key) {
        return o.has(key) ? o.get(key).getAsLong() : null;
    }

    private static String string(JsonObject o, String key) {
        JsonElement e = o.get(key);
        if (e == null || e.isJsonNull()) {
            return null;
        }
        if (!e.isJsonPrimitive()) {
            throw new JsonParseException(key + " must be a string");
        }
        return e.getAsString();
    }

    private static byte[] bytes(JsonObject o) {
        return o.toString().getBytes(StandardCharsets.UTF_8);
    }
}
