package dev.axfleet.deploy.models;

import dev.axfleet.config.Settings;
import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code axfleet models list|pull|verify|remove} and {@code axfleet plan}. Settings: {@code models.dir}
 * (/var/lib/axfleet/models), {@code models.host} (https://huggingface.co), {@code models.token} (or
 * {@code HF_TOKEN}), {@code models.margin_mib} (256).
 */
public final class ModelsCommand {
    private final ModelCatalog catalog;
    private final ModelStore store;
    private final int marginMib;
    private final PrintStream out;

    public ModelsCommand(Settings s, PrintStream out) {
        this.catalog = ModelCatalog.builtIn();
        String token = s.string("models.token", System.getenv("HF_TOKEN"));
        this.store = new ModelStore(Path.of(s.string("models.dir", "/var/lib/axfleet/models")),
                new ModelHost(URI.create(s.string("models.host", "https://huggingface.co")), token), catalog, out);
        this.marginMib = s.integer("models.margin_mib", 256);
        this.out = out;
    }

    /** Runs {@code models <verb> ...}; returns the exit status. */
    public int models(List<String> args) throws Exception {
        String verb = args.isEmpty() ? "list" : args.get(0);
        String id = args.size() > 1 ? args.get(1) : null;
        switch (verb) {
            case "list" -> {
                out.printf("%-18s %-6s %-12s %9s  %-10s %s%n", "MODEL", "TASK", "RUNTIME", "CARD MEM", "HERE", "FROM");
                for (ModelCatalog.Entry e : catalog.entries()) {
                    out.printf("%-18s %-6s %-12s %5d MiB%s %-10s %s%n", e.id(), e.task(), e.runtime(), e.cmmMib(), e.estimated() ? "~" : " ",
                            store.installed(e.id()) ? "pulled" : "-", e.repo());
                }
                return 0;
            }
            case "pull" -> {
                requireId(id, verb);
                store.pull(id, args.size() > 3 && args.get(2).equals("--revision") ? args.get(3) : "main");
                List<String> problems = store.verify(id);
                problems.forEach(p -> out.println("  PROBLEM " + p));
                return problems.isEmpty() ? 0 : 1;
            }
            case "verify" -> {
                requireId(id, verb);
                List<String> problems = store.verify(id);
                problems.forEach(p -> out.println("  PROBLEM " + p));
                out.println(id + ": " + (problems.isEmpty() ? "every file matches the model host's listing" : problems.size() + " problem(s)"));
                return problems.isEmpty() ? 0 : 1;
            }
            case "remove" -> {
                requireId(id, verb);
                store.remove(id);
                return 0;
            }
            default -> {
                out.println("usage: axfleet models list | pull MODEL [--revision REV] | verify MODEL | remove MODEL");
                return 2;
            }
        }
    }

    /** Runs {@code plan [MODEL...]} (no models: those pulled here); 0 when they fit together. */
    public int plan(List<String> ids) {
        List<ModelCatalog.Entry> chosen = new ArrayList<>();
        for (ModelCatalog.Entry e : catalog.entries()) {
            if (ids.isEmpty() ? store.installed(e.id()) : ids.contains(e.id())) {
                chosen.add(e);
            }
        }
        for (String id : ids) {
            if (catalog.find(id).isEmpty()) {
                out.println("unknown model '" + id + "'; see: axfleet models list");
                return 2;
            }
        }
        Plan plan = new Plan(chosen, ModelCatalog.CARD_CMM_MIB, marginMib);
        out.print(plan.describe());
        return plan.fits() ? 0 : 1;
    }

    private static void requireId(String id, String verb) {
        if (id == null) {
            throw new IllegalArgumentException("axfleet models " + verb + " needs a model id (axfleet models list)");
        }
    }
}
