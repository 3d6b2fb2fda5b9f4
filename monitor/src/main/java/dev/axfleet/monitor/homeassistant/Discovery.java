package dev.axfleet.monitor.homeassistant;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.axfleet.broker.CardRef;
import dev.axfleet.broker.CardState;
import dev.axfleet.broker.Topics;
import dev.axfleet.broker.WireName;
import dev.axfleet.broker.WorkerState;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Home Assistant MQTT discovery for the cards a monitor watches (docs/home-assistant.md): retained
 * {@code <prefix>/sensor/<node_id>/<object_id>/config} messages, one per sensor, that make each card a device in Home
 * Assistant with its temperature, free CMM, state and the phase of each worker on it, read straight from axfleet's
 * own retained topics (nothing is published twice). The monitor's last will (its first card's health without a
 * reading, {@code CardCodec.unwatched}) makes the card sensors unavailable when the monitor is gone.
 *
 * <p>The fields are Home Assistant's, from home-assistant/core homeassistant/components/mqtt: the topic's form
 * ({@code discovery.py} {@code TOPIC_MATCHER}: node and object ids of {@code [a-zA-Z0-9_-]}), the sensor's keys
 * ({@code sensor.py} {@code _PLATFORM_SCHEMA_BASE}: {@code options} only with device class {@code enum} and without
 * unit or state class), availability ({@code schemas.py} {@code MQTT_AVAILABILITY_SCHEMA}), device and origin
 * ({@code MQTT_ENTITY_DEVICE_INFO_SCHEMA}: at least one identifier; {@code MQTT_ORIGIN_INFO_SCHEMA}: a name), and the
 * payload {@code None} for "unknown" ({@code const.py} {@code PAYLOAD_NONE}). Full key names are written, no
 * abbreviations ({@code abbreviations.py} expands them; nothing here needs the bytes).
 */
public final class Discovery {
    public static final String DEFAULT_PREFIX = "homeassistant";
    private static final Pattern NOT_ID = Pattern.compile("[^a-zA-Z0-9_-]");
    /** Online while the card's health carries a reading time; the monitor's will and its goodbye carry none. */
    static final String ONLINE_TEMPLATE = "{{ 'online' if value_json.at is defined else 'offline' }}";

    private final String prefix;
    private final String host;
    private final CardRef willCard;
    private final boolean emulated;
    private final String version;

    /**
     * @param prefix   Home Assistant's discovery prefix ({@code homeassistant} unless changed there)
     * @param willCard the card whose health topic holds the monitor's last will
     */
    public Discovery(String prefix, String host, CardRef willCard, boolean emulated, String version) {
        this.prefix = prefix;
        this.host = host;
        this.willCard = willCard;
        this.emulated = emulated;
        this.version = version;
    }

    /** An id Home Assistant accepts in a discovery topic. */
    static String id(String s) {
        return NOT_ID.matcher(s).replaceAll("_");
    }

    static String node(CardRef card) {
        return id("axfleet_" + card.host() + "_card" + card.index());
    }

    private String topic(CardRef card, String object) {
        return prefix + "/sensor/" + node(card) + "/" + id(object) + "/config";
    }

    /** The three sensors of a card, by their config topics. */
    public Map<String, JsonObject> card(CardRef card) {
        Map<String, JsonObject> out = new LinkedHashMap<>();
        String state = Topics.card(card);
        JsonObject temperature = sensor(card, "temperature", "Temperature", state,
                "{{ value_json.temperature_c if value_json.temperature_c is defined else 'None' }}");
        temperature.addProperty("device_class", "temperature");
        temperature.addProperty("state_class", "measurement");
        temperature.addProperty("unit_of_measurement", "°C");
        temperature.addProperty("suggested_display_precision", 1);
        out.put(topic(card, "temperature"), temperature);

        JsonObject cmm = sensor(card, "cmm_free", "CMM free", state,
                "{{ (value_json.cmm_total_mib - value_json.cmm_used_mib) if value_json.cmm_total_mib is defined"
                        + " and value_json.cmm_used_mib is defined else 'None' }}");
        cmm.addProperty("device_class", "data_size");
        cmm.addProperty("state_class", "measurement");
        cmm.addProperty("unit_of_measurement", "MiB");
        cmm.addProperty("icon", "mdi:memory");
        out.put(topic(card, "cmm_free"), cmm);

        JsonObject s = sensor(card, "state", "State", state, "{{ value_json.state }}");
        s.addProperty("device_class", "enum");
        s.add("options", options(CardState.values()));
        s.addProperty("icon", "mdi:expansion-card");
        out.put(topic(card, "state"), s);
        return out;
    }

    /** The config topic of a worker's phase sensor (an empty retained message there removes it). */
    public String workerTopic(WorkerState w) {
        return topic(w.card(), "worker_" + w.model() + "_" + w.worker() + "_phase");
    }

    /** A worker's phase, on the card it runs on; it needs no availability of its own (its last will is its phase). */
    public JsonObject worker(WorkerState w) {
        JsonObject o = sensor(w.card(), "worker_" + w.model() + "_" + w.worker() + "_phase", w.model() + " (" + w.worker() + ")",
                Topics.workerState(w.model(), w.worker()), "{{ value_json.phase }}");
        o.remove("availability");
        o.remove("availability_mode");
        o.addProperty("device_class", "enum");
        o.add("options", options(WorkerState.Phase.values()));
        o.addProperty("icon", "mdi:robot");
        return o;
    }

    private JsonObject sensor(CardRef card, String object, String name, String stateTopic, String valueTemplate) {
        JsonObject o = new JsonObject();
        o.addProperty("name", name);
        o.addProperty("unique_id", node(card) + "_" + id(object));
        o.addProperty("state_topic", stateTopic);
        o.addProperty("value_template", valueTemplate);
        JsonArray availability = new JsonArray();
        availability.add(availability(willCard));
        if (!card.equals(willCard)) {
            availability.add(availability(card));
        }
        o.add("availability", availability);
        o.addProperty("availability_mode", "all");
        o.add("device", device(card));
        JsonObject origin = new JsonObject();
        origin.addProperty("name", "axfleet");
        origin.addProperty("sw_version", version);
        o.add("origin", origin);
        return o;
    }

    private static JsonObject availability(CardRef card) {
        JsonObject a = new JsonObject();
        a.addProperty("topic", Topics.card(card));
        a.addProperty("value_template", ONLINE_TEMPLATE);
        return a;
    }

    private JsonObject device(CardRef card) {
        JsonObject d = new JsonObject();
        JsonArray ids = new JsonArray();
        ids.add(node(card));
        d.add("identifiers", ids);
        d.addProperty("name", "AX650 card " + card.host() + "/" + card.index() + (emulated ? " (EMULATED)" : ""));
        d.addProperty("manufacturer", emulated ? "axfleet's emulator" : "AXERA");
        d.addProperty("model", emulated ? "emulated AX650N" : "AX650N (M5Stack LLM-8850)");
        d.addProperty("sw_version", "axfleet " + version);
        return d;
    }

    private static <E extends Enum<E> & WireName> JsonArray options(E[] values) {
        JsonArray a = new JsonArray();
        Arrays.stream(values).forEach(v -> a.add(v.wire()));
        return a;
    }

    public String host() {
        return host;
    }
}
