package dev.axfleet.deploy;

import dev.axfleet.config.Settings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Settings of {@code axfleet up}, the whole fleet in one process.
 *
 * @param home        folder for the fleet's state (worker records, emulated model folders, broker data)
 * @param brokerUrl   an external broker (Mosquitto) to use, or null for the embedded one
 * @param models      chat models to keep resident, each as {@code id=ModelName} (e.g. {@code qwen3-1.7b=Qwen3-1.7B})
 * @param cardPresent whether the AX650 card's device node exists
 * @param emulate     run the emulator: when no card is present, or when asked explicitly
 * @param monitor     run the device monitor too (against the emulated card when emulating)
 * @param imageModel  the image model to keep resident (SD1.5-LCM), or null for none
 */
public record FleetConfig(
        Path home,
        String brokerUrl,
        int embeddedBrokerPort,
        boolean embeddedBrokerPersistent,
        Map<String, String> models,
        boolean cardPresent,
        boolean emulate,
        double emulatorTimeScale,
        boolean monitor,
        String imageModel,
        Settings settings) {

    /** The device node the AXCL driver creates (axclhost package, axcl_host.rules; ../shared/axera.md §2.1). */
    public static final Path CARD_DEVICE = Path.of("/dev/axcl_host");

    public static FleetConfig from(Settings s) {
        Path device = Path.of(s.string("fleet.card_device", CARD_DEVICE.toString()));
        boolean card = Files.exists(device);
        boolean forced = s.bool("fleet.emulate", false);
        Map<String, String> models = new java.util.LinkedHashMap<>();
        List<String> specs = Arrays.stream(s.string("fleet.models", "qwen3-1.7b=Qwen3-1.7B").split(","))
                .map(String::trim).filter(x -> !x.isEmpty()).toList();
        for (String spec : specs) {
            String[] kv = spec.split("=", 2);
            models.put(kv[0], kv.length > 1 ? kv[1] : kv[0]);
        }
        return new FleetConfig(
                Path.of(s.string("fleet.home", "run")).toAbsolutePath(),
                s.string("broker.url", null),
                s.integer("broker.embedded_port", 1883),
                s.bool("broker.embedded_persistent", false),
                models,
                card,
                !card || forced,
                s.decimal("emulator.time_scale", 1.0),
                s.bool("fleet.monitor", true),
                s.string("fleet.image_model", "sd15-lcm").isBlank() ? null : s.string("fleet.image_model", "sd15-lcm"),
                s);
    }
}
