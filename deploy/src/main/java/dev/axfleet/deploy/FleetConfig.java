package dev.axfleet.deploy;

import dev.axfleet.broker.Kind;
import dev.axfleet.broker.WireName;
import dev.axfleet.config.Settings;
import dev.axfleet.deploy.models.ModelCatalog;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Settings of {@code axfleet up}, the whole fleet in one process.
 *
 * @param home        folder for the fleet's state (worker records, emulated model folders, broker data)
 * @param brokerUrl   an external broker (Mosquitto) to use, or null for the embedded one
 * @param models      the models to keep resident, in order, each with the kind of work it does
 * @param cardPresent whether the AX650 card's device node exists
 * @param emulate     run the emulator: when no card is present, or when asked explicitly
 * @param monitor     run the device monitor too (against the emulated card when emulating)
 */
public record FleetConfig(
        Path home,
        String brokerUrl,
        int embeddedBrokerPort,
        boolean embeddedBrokerPersistent,
        List<Model> models,
        boolean cardPresent,
        boolean emulate,
        double emulatorTimeScale,
        boolean monitor,
        Settings settings) {

    /** The device node the AXCL driver creates (axclhost package, axcl_host.rules; ../shared/axera.md §2.1). */
    public static final Path CARD_DEVICE = Path.of("/dev/axcl_host");
    /**
     * A chat, a vision, a transcription and a speech model and (with {@link #DEFAULT_IMAGE_MODEL}) the image model, chosen
     * to fit the card's 7040 MiB together ({@code axfleet plan}): Qwen3-0.6B 1972 + InternVL3-1B 1276 + Whisper-Tiny 258
     * (estimated) + MeloTTS 58 (estimated) + SD1.5-LCM 2355 (estimated) MiB = 5919, with the 128 MiB kept free. The
     * embedding model (1972 MiB more) does not fit beside them all; it is one setting away
     * ({@code fleet.models=...,qwen3-embedding-0.6b=Qwen3-Embedding-0.6B}: with residency it loads when asked, the least
     * recently used idle model making room; docs/decisions.md).
     */
    public static final String DEFAULT_MODELS = "qwen3-0.6b=Qwen3-0.6B,internvl3-1b=InternVL3-1B,whisper-tiny,melotts-en-default";
    public static final String DEFAULT_IMAGE_MODEL = "sd15-lcm";

    /**
     * A model to keep resident.
     *
     * @param id   its name on the bus and for clients
     * @param name the manufacturer's model name (picks the emulator's measured profile)
     */
    public record Model(String id, String name, Kind kind) {
    }

    public static FleetConfig from(Settings s) {
        Path device = Path.of(s.string("fleet.card_device", CARD_DEVICE.toString()));
        boolean card = Files.exists(device);
        boolean forced = s.bool("fleet.emulate", false);
        return new FleetConfig(
                Path.of(s.string("fleet.home", "run")).toAbsolutePath(),
                s.string("broker.url", null),
                s.integer("broker.embedded_port", 1883),
                s.bool("broker.embedded_persistent", false),
                models(s),
                card,
                !card || forced,
                s.decimal("emulator.time_scale", 1.0),
                s.bool("fleet.monitor", true),
                s);
    }

    /**
     * {@code fleet.models}: {@code id[=ModelName][:kind]} entries; a model's kind is the catalog's unless given, and chat
     * for ids the catalog does not list. {@code fleet.image_model} (default sd15-lcm, empty for none) is one more model.
     */
    static List<Model> models(Settings s) {
        ModelCatalog catalog = ModelCatalog.builtIn();
        Map<String, Model> out = new LinkedHashMap<>();
        List<String> specs = new ArrayList<>(Arrays.stream(s.string("fleet.models", DEFAULT_MODELS).split(","))
                .map(String::trim).filter(x -> !x.isEmpty()).toList());
        String image = s.stringOrNone("fleet.image_model", DEFAULT_IMAGE_MODEL);
        if (!image.isEmpty()) {
            specs.add(image + ":image");
        }
        for (String spec : specs) {
            String kindName = null;
            int colon = spec.lastIndexOf(':');
            if (colon > 0 && WireName.parse(Kind.class, spec.substring(colon + 1)).isPresent()) {
                kindName = spec.substring(colon + 1);
                spec = spec.substring(0, colon);
            }
            String[] kv = spec.split("=", 2);
            String id = kv[0].trim();
            String name = kv.length > 1 ? kv[1].trim() : id;
            Kind kind = kindName != null ? WireName.parse(Kind.class, kindName).orElseThrow()
                    : catalog.find(id).flatMap(e -> WireName.parse(Kind.class, e.task())).orElse(Kind.CHAT);
            out.putIfAbsent(id, new Model(id, name, kind));
        }
        return List.copyOf(out.values());
    }

    /** The models of one kind, in order. */
    public List<Model> models(Kind kind) {
        return models.stream().filter(m -> m.kind() == kind).toList();
    }
}
