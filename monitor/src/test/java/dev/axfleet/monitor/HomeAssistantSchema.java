package dev.axfleet.monitor;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Home Assistant's MQTT discovery schema for a sensor, restated from home-assistant/core
 * homeassistant/components/mqtt (read for this check; cited by file and name):
 * <ul>
 *   <li>{@code discovery.py}: {@code TOPIC_MATCHER} {@code (?P<component>\w+)/(?:(?P<node_id>[a-zA-Z0-9_-]+)/)?(?P<object_id>[a-zA-Z0-9_-]+)/config}
 *       after the prefix; the payload a JSON object whose abbreviations are expanded ({@code abbreviations.py}
 *       {@code ABBREVIATIONS}, {@code DEVICE_ABBREVIATIONS});</li>
 *   <li>{@code sensor.py} {@code DISCOVERY_SCHEMA}: {@code _PLATFORM_SCHEMA_BASE} (MQTT_RO_SCHEMA + the sensor's keys +
 *       MQTT_ENTITY_COMMON_SCHEMA) with {@code extra=vol.REMOVE_EXTRA}: a key it does not know is dropped without a word,
 *       so here it is an error; {@code validate_sensor_state_and_device_class_config}: {@code options} only with device
 *       class {@code enum}, not empty, and without {@code state_class} or {@code unit_of_measurement};</li>
 *   <li>{@code config.py} {@code MQTT_RO_SCHEMA}: {@code state_topic} required, a valid subscribe topic;</li>
 *   <li>{@code schemas.py}: {@code MQTT_AVAILABILITY_SINGLE_SCHEMA} / {@code _LIST_SCHEMA} ({@code availability_topic} and
 *       {@code availability} exclusive; each entry needs {@code topic}; {@code availability_mode} all, any or latest),
 *       {@code MQTT_ENTITY_DEVICE_INFO_SCHEMA} (its keys; at least one of identifiers, connections),
 *       {@code MQTT_ORIGIN_INFO_SCHEMA} (name required);</li>
 *   <li>homeassistant/components/sensor/const.py: the state classes, and the units a device class takes
 *       ({@code DEVICE_CLASS_UNITS}; only those of the device classes axfleet uses are listed here).</li>
 * </ul>
 * Returns every problem found; an empty list is a payload Home Assistant takes as written.
 */
final class HomeAssistantSchema {
    static final Pattern TOPIC = Pattern.compile("(\\w+)/(?:([a-zA-Z0-9_-]+)/)?([a-zA-Z0-9_-]+)/config");
    static final Map<String, String> ABBREVIATIONS = Map.ofEntries(
            Map.entry("avty", "availability"), Map.entry("avty_mode", "availability_mode"), Map.entry("avty_t", "availability_topic"),
            Map.entry("avty_tpl", "availability_template"), Map.entry("dev", "device"), Map.entry("dev_cla", "device_class"),
            Map.entry("e", "encoding"), Map.entry("en", "enabled_by_default"), Map.entry("ent_cat", "entity_category"),
            Map.entry("exp_aft", "expire_after"), Map.entry("frc_upd", "force_update"), Map.entry("ic", "icon"),
            Map.entry("json_attr_t", "json_attributes_topic"), Map.entry("json_attr_tpl", "json_attributes_template"),
            Map.entry("lrst_val_tpl", "last_reset_value_template"), Map.entry("obj_id", "object_id"), Map.entry("ops", "options"),
            Map.entry("o", "origin"), Map.entry("pl_avail", "payload_available"), Map.entry("pl_not_avail", "payload_not_available"),
            Map.entry("stat_cla", "state_class"), Map.entry("stat_t", "state_topic"), Map.entry("sug_dsp_prc", "suggested_display_precision"),
            Map.entry("t", "topic"), Map.entry("uniq_id", "unique_id"), Map.entry("unit_of_meas", "unit_of_measurement"),
            Map.entry("val_tpl", "value_template"));
    static final Map<String, String> DEVICE_ABBREVIATIONS = Map.of("cns", "connections", "cu", "configuration_url", "ids", "identifiers",
            "mf", "manufacturer", "mdl", "model", "sw", "sw_version", "sa", "suggested_area", "hw", "hw_version", "sn", "serial_number");
    /** sensor.py _PLATFORM_SCHEMA_BASE, config.py MQTT_RO_SCHEMA/MQTT_BASE_SCHEMA, schemas.py MQTT_ENTITY_COMMON_SCHEMA. */
    static final Set<String> SENSOR_KEYS = Set.of(
            "state_topic", "value_template", "qos", "encoding",
            "device_class", "expire_after", "force_update", "last_reset_value_template", "name", "options", "suggested_display_precision",
            "state_class", "unit_of_measurement",
            "availability_topic", "availability_template", "payload_available", "payload_not_available", "availability_mode", "availability",
            "device", "origin", "enabled_by_default", "entity_category", "icon", "json_attributes_topic", "json_attributes_template",
            "object_id", "unique_id");
    static final Set<String> DEVICE_KEYS = Set.of("identifiers", "connections", "manufacturer", "model", "model_id", "name", "hw_version",
            "serial_number", "sw_version", "via_device", "suggested_area", "configuration_url");
    static final Set<String> ORIGIN_KEYS = Set.of("name", "sw_version", "support_url");
    static final Set<String> STATE_CLASSES = Set.of("measurement", "measurement_angle", "total", "total_increasing");
    static final Map<String, Set<String>> UNITS = Map.of(
            "temperature", Set.of("°C", "°F", "K"),
            "data_size", Set.of("bit", "kbit", "Mbit", "Gbit", "B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB",
                    "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"),
            "enum", Set.of());

    private HomeAssistantSchema() {
    }

    /** The problems of one discovery message: its topic (after the prefix) and payload. */
    static List<String> problems(String topicAfterPrefix, JsonObject raw) {
        List<String> p = new ArrayList<>();
        Matcher m = TOPIC.matcher(topicAfterPrefix);
        if (!m.matches()) {
            p.add("topic " + topicAfterPrefix + " is not <component>/[<node_id>/]<object_id>/config");
        } else if (!m.group(1).equals("sensor")) {
            p.add("component " + m.group(1) + " is not sensor");
        }
        JsonObject o = expand(raw, ABBREVIATIONS);
        for (String key : o.keySet()) {
            if (!SENSOR_KEYS.contains(key)) {
                p.add("key " + key + " is not in the sensor's discovery schema (Home Assistant drops it)");
            }
        }
        if (!string(o, "state_topic") || !validSubscribeTopic(o.get("state_topic").getAsString())) {
            p.add("state_topic is required and must be a valid subscribe topic");
        }
        for (String key : List.of("value_template", "name", "unique_id", "unit_of_measurement", "icon", "availability_template",
                "device_class", "state_class")) {
            if (o.has(key) && !string(o, key)) {
                p.add(key + " must be a string");
            }
        }
        if (!string(o, "unique_id")) {
            p.add("unique_id is needed to join the device and to be edited in Home Assistant");
        }
        String deviceClass = string(o, "device_class") ? o.get("device_class").getAsString() : null;
        if (deviceClass != null && !UNITS.containsKey(deviceClass)) {
            p.add("device_class " + deviceClass + " is not one this check knows");
        }
        if (o.has("state_class") && !STATE_CLASSES.contains(o.get("state_class").getAsString())) {
            p.add("state_class " + o.get("state_class") + " is not one of " + STATE_CLASSES);
        }
        if (deviceClass != null && o.has("unit_of_measurement") && !UNITS.get(deviceClass).contains(o.get("unit_of_measurement").getAsString())) {
            p.add("unit " + o.get("unit_of_measurement") + " is not one device class " + deviceClass + " takes");
        }
        if (o.has("options")) {
            JsonElement options = o.get("options");
            if (!options.isJsonArray() || options.getAsJsonArray().isEmpty()) {
                p.add("options must be a non-empty list");
            }
            if (o.has("state_class") || o.has("unit_of_measurement")) {
                p.add("options is not allowed with state_class or unit_of_measurement");
            }
            if (!"enum".equals(deviceClass)) {
                p.add("options needs device_class enum");
            }
        }
        if (o.has("suggested_display_precision") && !(o.get("suggested_display_precision").isJsonPrimitive()
                && o.get("suggested_display_precision").getAsJsonPrimitive().isNumber() && o.get("suggested_display_precision").getAsInt() >= 0)) {
            p.add("suggested_display_precision must be a positive integer");
        }
        if (o.has("availability_topic") && o.has("availability")) {
            p.add("availability_topic and availability are exclusive");
        }
        if (o.has("availability_mode") && !Set.of("all", "any", "latest").contains(o.get("availability_mode").getAsString())) {
            p.add("availability_mode must be all, any or latest");
        }
        if (o.has("availability")) {
            JsonElement a = o.get("availability");
            for (JsonElement e : a.isJsonArray() ? a.getAsJsonArray() : single(a)) {
                JsonObject entry = e.isJsonObject() ? expand(e.getAsJsonObject(), ABBREVIATIONS) : new JsonObject();
                if (!string(entry, "topic") || !validSubscribeTopic(entry.get("topic").getAsString())) {
                    p.add("each availability entry needs a valid topic: " + e);
                }
                for (String key : entry.keySet()) {
                    if (!Set.of("topic", "payload_available", "payload_not_available", "value_template").contains(key)) {
                        p.add("availability entry key " + key + " is not in the schema");
                    }
                }
            }
        }
        if (o.has("device")) {
            JsonObject d = expand(o.getAsJsonObject("device"), DEVICE_ABBREVIATIONS);
            d.keySet().stream().filter(k -> !DEVICE_KEYS.contains(k)).forEach(k -> p.add("device key " + k + " is not in the schema"));
            boolean ids = d.has("identifiers") && (d.get("identifiers").isJsonArray() ? !d.getAsJsonArray("identifiers").isEmpty()
                    : string(d, "identifiers"));
            boolean connections = d.has("connections") && d.get("connections").isJsonArray() && !d.getAsJsonArray("connections").isEmpty();
            if (!ids && !connections) {
                p.add("the device needs at least one of identifiers, connections");
            }
        }
        if (o.has("origin")) {
            JsonObject origin = o.getAsJsonObject("origin");
            if (!string(origin, "name")) {
                p.add("origin needs a name");
            }
            origin.keySet().stream().filter(k -> !ORIGIN_KEYS.contains(k)).forEach(k -> p.add("origin key " + k + " is not in the schema"));
        }
        return p;
    }

    private static JsonArray single(JsonElement e) {
        JsonArray a = new JsonArray();
        a.add(e);
        return a;
    }

    static JsonObject expand(JsonObject o, Map<String, String> abbreviations) {
        JsonObject out = new JsonObject();
        o.entrySet().forEach(e -> out.add(abbreviations.getOrDefault(e.getKey(), e.getKey()), e.getValue()));
        return out;
    }

    private static boolean string(JsonObject o, String key) {
        return o.has(key) && o.get(key).isJsonPrimitive() && o.get(key).getAsJsonPrimitive().isString() && !o.get(key).getAsString().isEmpty();
    }

    /** util.py valid_subscribe_topic: a valid topic; '+' only as a whole level, '#' only as the last one. */
    static boolean validSubscribeTopic(String t) {
        if (t.isEmpty() || t.length() > 65535 || t.indexOf('\0') >= 0) {
            return false;
        }
        String[] levels = t.split("/", -1);
        for (int i = 0; i < levels.length; i++) {
            String l = levels[i];
            if ((l.contains("+") && !l.equals("+")) || (l.contains("#") && (!l.equals("#") || i != levels.length - 1))) {
                return false;
            }
        }
        return true;
    }
}
