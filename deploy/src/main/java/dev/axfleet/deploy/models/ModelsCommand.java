package dev.axfleet.deploy.models;

import dev.axfleet.config.Settings;
import dev.axfleet.deploy.Axfleet;
import dev.axfleet.deploy.UserError;
import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/**
 * {@code axfleet models list|pull|verify|remove}. Settings: {@code models.dir} (/var/lib/axfleet/models),
 * {@code models.host} (else {@code HF_ENDPOINT}, else https://huggingface.co), {@code models.token} (or
 * {@code HF_TOKEN}). A model is named by its id or an alias ({@code lcm-lora-sdv1-5} is {@code sd15-lcm}).
 */
@Command(name = "models", description = "The model folders under models.dir, from the manufacturer's model host.",
        subcommands = {picocli.CommandLine.HelpCommand.class})
public final class ModelsCommand implements Runnable {
    static final String DEFAULT_HOST = "https://huggingface.co";

    @ParentCommand
    Axfleet root;

    private ModelCatalog catalog;
    private ModelStore store;

    /** The model host: models.host when set, else HF_ENDPOINT (as huggingface_hub reads it), else Hugging Face. */
    static URI host(Settings s, String hfEndpoint) {
        String configured = s.string("models.host", null);
        String h = configured != null ? configured : hfEndpoint != null && !hfEndpoint.isBlank() ? hfEndpoint.trim() : DEFAULT_HOST;
        try {
            URI uri = URI.create(h);
            if (uri.getScheme() == null || uri.getHost() == null || !uri.getScheme().matches("https?")) {
                throw new IllegalArgumentException();
            }
            return uri;
        } catch (IllegalArgumentException e) {
            throw new UserError((configured != null ? "models.host" : "HF_ENDPOINT") + " must be an http(s) address like " + DEFAULT_HOST
                    + ", not '" + h + "'");
        }
    }

    private void open() {
        if (store == null) {
            Settings s = root.settings();
            catalog = ModelCatalog.builtIn();
            store = new ModelStore(Path.of(s.string("models.dir", "/var/lib/axfleet/models")),
                    new ModelHost(host(s, System.getenv("HF_ENDPOINT")), s.string("models.token", System.getenv("HF_TOKEN"))),
                    catalog, root.out(), System.console() != null);
        }
    }

    private String known(String name) {
        return catalog.find(name).map(ModelCatalog.Entry::id)
                .orElseThrow(() -> new UserError("unknown model '" + name + "'; axfleet models list names those there are"));
    }

    @Override
    public void run() {
        list();
    }

    @Command(name = "list", description = "The models published for the card: their task, runtime, card memory and whether they are here.")
    void list() {
        open();
        PrintStream out = root.out();
        out.printf("%-18s %-6s %-12s %9s  %-10s %s%n", "MODEL", "TASK", "RUNTIME", "CARD MEM", "HERE", "FROM");
        for (ModelCatalog.Entry e : catalog.entries()) {
            out.printf("%-18s %-6s %-12s %5d MiB%s %-10s %s%s%n", e.id(), e.task(), e.runtime(), e.cmmMib(), e.estimated() ? "~" : " ",
                    store.installed(e.id()) ? "pulled" : "-", e.repo(), e.aliases().isEmpty() ? "" : " (also called " + String.join(", ", e.aliases()) + ")");
        }
    }

    @Command(name = "pull", description = "Download a model into models.dir: progress per file and in total, resumed where it was cut, "
            + "every file checked against the host's size and SHA-256. HF_ENDPOINT names a mirror.")
    int pull(@Parameters(paramLabel = "MODEL", description = "a model id or alias (axfleet models list)") String model,
             @Option(names = "--revision", paramLabel = "REV", defaultValue = "main", description = "a branch, tag or commit of the model's repository (default: ${DEFAULT-VALUE})") String revision,
             @Option(names = "--dry-run", description = "list what would be downloaded and check the disk; download nothing") boolean dryRun)
            throws Exception {
        open();
        String id = known(model);
        store.pull(id, revision, dryRun);
        if (dryRun) {
            return 0;
        }
        List<String> problems = store.verify(id);
        problems.forEach(p -> root.out().println("  PROBLEM " + p));
        return problems.isEmpty() ? 0 : 1;
    }

    @Command(name = "verify", description = "Check a model folder: every file against the listing it was pulled with, and for Git LFS pointers.")
    int verify(@Parameters(paramLabel = "MODEL") String model) throws Exception {
        open();
        String id = known(model);
        List<String> problems = store.verify(id);
        problems.forEach(p -> root.out().println("  PROBLEM " + p));
        root.out().println(id + ": " + (problems.isEmpty() ? "every file matches the model host's listing" : problems.size() + " problem(s)"));
        return problems.isEmpty() ? 0 : 1;
    }

    @Command(name = "remove", description = "Delete a model's folder.")
    int remove(@Parameters(paramLabel = "MODEL") String model) throws Exception {
        open();
        store.remove(known(model));
        return 0;
    }

    /** {@code plan [MODEL...]} (no models: those pulled here); 0 when they fit together. */
    public static int plan(Settings s, List<String> names, PrintStream out) {
        ModelCatalog catalog = ModelCatalog.builtIn();
        ModelStore store = new ModelStore(Path.of(s.string("models.dir", "/var/lib/axfleet/models")), null, catalog, out);
        List<ModelCatalog.Entry> chosen = new java.util.ArrayList<>();
        for (String name : names) {
            chosen.add(catalog.find(name).orElseThrow(() -> new UserError("unknown model '" + name + "'; axfleet models list names those there are", 2)));
        }
        if (names.isEmpty()) {
            catalog.entries().stream().filter(e -> store.installed(e.id())).forEach(chosen::add);
        }
        Plan plan = new Plan(chosen.stream().distinct().toList(), ModelCatalog.CARD_CMM_MIB, s.integer("models.margin_mib", 256));
        out.print(plan.describe());
        return plan.fits() ? 0 : 1;
    }
}
