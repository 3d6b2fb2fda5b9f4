package dev.axfleet.deploy.models;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The models axfleet knows how to fetch and run: their repository on the manufacturer's model host, the
 * runtime that serves them, and the card memory they take (catalog.json, with its sources).
 */
public final class ModelCatalog {
    /** The card's memory for models: 7040 MiB of CMM (axcl-smi on the 8 GB card; ../shared/axera.md §3). */
    public static final int CARD_CMM_MIB = 7040;

    /**
     * One model. {@code id} is its one name (units, folders, topics); {@code aliases} are accepted for it (the
     * repository's own name, e.g. lcm-lora-sdv1-5 for sd15-lcm). {@code estimated} footprints were inferred, not measured.
     */
    public record Entry(String id, List<String> aliases, String repo, String task, String runtime, int cmmMib, boolean estimated,
                        int contextTokens, String source) {
        public Entry {
            aliases = List.copyOf(aliases);
        }

        boolean answersTo(String name) {
            return id.equals(name) || aliases.contains(name);
        }
    }

    private final List<Entry> entries;

    private ModelCatalog(List<Entry> entries) {
        this.entries = List.copyOf(entries);
    }

    public static ModelCatalog builtIn() {
        try (InputStream in = ModelCatalog.class.getResourceAsStream("catalog.json")) {
            JsonObject root = JsonParser.parseString(new String(in.readAllBytes(), StandardCharsets.UTF_8)).getAsJsonObject();
            List<Entry> out = new ArrayList<>();
            for (JsonElement e : root.getAsJsonArray("models")) {
                JsonObject m = e.getAsJsonObject();
                List<String> aliases = new ArrayList<>();
                if (m.has("aliases")) {
                    m.getAsJsonArray("aliases").forEach(a -> aliases.add(a.getAsString()));
                }
                out.add(new Entry(m.get("id").getAsString(), aliases, m.get("repo").getAsString(), m.get("task").getAsString(),
                        m.get("runtime").getAsString(), m.get("cmm_mib").getAsInt(),
                        m.has("estimated") && m.get("estimated").getAsBoolean(), m.get("context_tokens").getAsInt(),
                        m.get("source").getAsString()));
            }
            return new ModelCatalog(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public List<Entry> entries() {
        return entries;
    }

    /** The model called {@code name}, by its id or one of its aliases. */
    public Optional<Entry> find(String name) {
        return entries.stream().filter(e -> e.answersTo(name)).findFirst();
    }

    /**
     * {@code settings} with {@code runtime.cmm_mib} set to the model's catalog footprint when it is not configured (a
     * worker plans the room its model needs on the card with it); as they are for a model the catalog does not list.
     */
    public dev.axfleet.config.Settings withFootprint(dev.axfleet.config.Settings settings, String model) {
        if (settings.string("runtime.cmm_mib", null) != null) {
            return settings;
        }
        return find(model).map(e -> settings.with(java.util.Map.of("runtime.cmm_mib", String.valueOf(e.cmmMib())))).orElse(settings);
    }

    /** The model's one name: {@code name} itself when it is no alias (an unknown name is left for the caller to refuse). */
    public String canonical(String name) {
        return find(name).map(Entry::id).orElse(name);
    }
}
