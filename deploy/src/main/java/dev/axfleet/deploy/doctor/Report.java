package dev.axfleet.deploy.doctor;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.time.Instant;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * One run's report: Markdown for a person to paste into an issue, JSON for tools. Versions first, then every unverified
 * item of docs/hardware.md with its verdict, then each check with what it saw; secrets redacted throughout. A run on the
 * emulator says so in its title, in every verdict and in the JSON.
 */
final class Report {
    /** Where a report goes: said at the top of every report and in docs/hardware.md. */
    static final String SEND_TO = "Paste this report into a new issue on axfleet's GitHub repository (Issues, New issue, title "
            + "\"doctor report: <board> <date>\"), and attach the --json file and any picture it saved.";

    record Run(boolean emulated, String target, String commandLine, String host, Instant at, Map<String, String> versions, List<String> preamble,
               List<Result> results, List<HardwareItems.Item> items, Map<String, String> settings) {
    }

    private final Run run;
    private final Redactor redactor;

    Report(Run run, Redactor redactor) {
        this.run = run;
        this.redactor = redactor;
    }

    Map<Verdict.Kind, Integer> counts() {
        Map<Verdict.Kind, Integer> c = new EnumMap<>(Verdict.Kind.class);
        for (Verdict.Kind k : Verdict.Kind.values()) {
            c.put(k, 0);
        }
        run.results().forEach(r -> c.merge(r.verdict().kind(), 1, Integer::sum));
        return c;
    }

    /** The verdict for a U-item: its check's, or the reason it has none. */
    Verdict verdictOf(HardwareItems.Item item) {
        for (Result r : run.results()) {
            if (r.check().id().equals(item.id())) {
                return r.verdict();
            }
        }
        for (Result r : run.results()) {
            if (r.check().items().contains(item.id())) {
                return r.verdict();
            }
        }
        return item.noCheck() != null ? Verdict.skipped("no doctor check: " + item.noCheck())
                : Verdict.skipped("NO CHECK: this build of doctor has none for this item");
    }

    private String word(Verdict v) {
        String w = v.kind() == Verdict.Kind.DIFFERS ? "**DIFFERS**" : v.kind().word();
        return run.emulated() ? w + " (emulated)" : w;
    }

    String markdown() {
        StringBuilder md = new StringBuilder();
        md.append("# axfleet doctor report").append(run.emulated() ? " — EMULATED: no card was used, every figure is axfleet's emulator's" : "")
                .append("\n\n");
        md.append(SEND_TO).append("\n\n");
        md.append("- checked: ").append(run.target()).append('\n');
        md.append("- command: `").append(run.commandLine()).append("`\n");
        md.append("- host ").append(run.host()).append(", ").append(run.at()).append('\n');
        Map<Verdict.Kind, Integer> c = counts();
        md.append("- verdicts: ").append(c.get(Verdict.Kind.VERIFIED)).append(" verified, ").append(c.get(Verdict.Kind.DIFFERS)).append(" differ, ")
                .append(c.get(Verdict.Kind.OBSERVED)).append(" observed, ").append(c.get(Verdict.Kind.SKIPPED)).append(" skipped")
                .append(run.emulated() ? " (all EMULATED)" : "").append('\n');
        run.preamble().forEach(p -> md.append("- ").append(p).append('\n'));
        md.append("\n## Versions\n\n| what | version |\n|---|---|\n");
        run.versions().forEach((k, v) -> md.append("| ").append(cell(k)).append(" | ").append(cell(v)).append(" |\n"));
        md.append("\n## The unverified items of docs/hardware.md\n\n| item | verdict | what was seen |\n|---|---|---|\n");
        for (HardwareItems.Item item : run.items()) {
            Verdict v = verdictOf(item);
            md.append("| ").append(item.id()).append(" ").append(cell(item.title())).append(" | ").append(word(v)).append(" | ")
                    .append(cell(v.text())).append(" |\n");
        }
        md.append("\n## Checks\n");
        for (Result r : run.results()) {
            Check k = r.check();
            md.append("\n### ").append(k.id()).append(" — ").append(k.title()).append("\n\n");
            md.append(word(r.verdict())).append(" · ").append(r.millis()).append(" ms · settles ").append(String.join(", ", k.items()))
                    .append(k.disruptive() ? " · disruptive" : k.needsCardAlone() ? " · needs the card alone" : "").append("\n\n");
            md.append(r.verdict().text()).append("\n");
            if (!r.evidence().isEmpty()) {
                md.append("\n<details><summary>what it saw</summary>\n\n```\n");
                r.evidence().forEach(l -> md.append(l.replace("```", "'''")).append('\n'));
                md.append("```\n</details>\n");
            }
        }
        md.append("\n## Settings (secrets redacted)\n\n```\n");
        run.settings().forEach((k, v) -> md.append(k).append(" = ").append(Redactor.secretKey(k) && v != null ? Redactor.MARK : v).append('\n'));
        md.append("```\n");
        return redactor.clean(md.toString());
    }

    private static String cell(String s) {
        return s == null ? "" : s.replace("|", "\\|").replace("\n", " ");
    }

    JsonObject json() {
        JsonObject o = new JsonObject();
        o.addProperty("emulated", run.emulated());
        o.addProperty("target", run.target());
        o.addProperty("command", run.commandLine());
        o.addProperty("host", run.host());
        o.addProperty("at", run.at().toString());
        JsonObject versions = new JsonObject();
        run.versions().forEach(versions::addProperty);
        o.add("versions", versions);
        JsonArray pre = new JsonArray();
        run.preamble().forEach(pre::add);
        o.add("notes", pre);
        JsonObject counts = new JsonObject();
        counts().forEach((k, v) -> counts.addProperty(k.word(), v));
        o.add("counts", counts);
        JsonArray items = new JsonArray();
        for (HardwareItems.Item item : run.items()) {
            Verdict v = verdictOf(item);
            JsonObject i = new JsonObject();
            i.addProperty("id", item.id());
            i.addProperty("title", item.title());
            i.addProperty("verdict", v.kind().word());
            i.addProperty("seen", v.text());
            i.addProperty("emulated", run.emulated());
            items.add(i);
        }
        o.add("items", items);
        JsonArray checks = new JsonArray();
        for (Result r : run.results()) {
            JsonObject c = new JsonObject();
            c.addProperty("id", r.check().id());
            c.addProperty("title", r.check().title());
            JsonArray settles = new JsonArray();
            r.check().items().forEach(settles::add);
            c.add("settles", settles);
            c.addProperty("verdict", r.verdict().kind().word());
            c.addProperty("seen", r.verdict().text());
            c.addProperty("ms", r.millis());
            c.addProperty("limit_ms", r.check().limit().toMillis());
            c.addProperty("needs_card_alone", r.check().needsCardAlone());
            c.addProperty("disruptive", r.check().disruptive());
            c.addProperty("emulated", run.emulated());
            JsonArray ev = new JsonArray();
            r.evidence().forEach(ev::add);
            c.add("evidence", ev);
            checks.add(c);
        }
        o.add("checks", checks);
        JsonObject settings = new JsonObject();
        run.settings().forEach((k, v) -> settings.addProperty(k, Redactor.secretKey(k) && v != null ? Redactor.MARK : v));
        o.add("settings", settings);
        return o;
    }

    String jsonText() {
        return redactor.clean(new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create().toJson(json()));
    }

    /** One line per check for the terminal while the run goes on. */
    static String progress(Result r, boolean emulated) {
        return r.check().id() + " " + r.verdict().kind().word() + (emulated ? " (emulated)" : "") + " in " + r.millis() + " ms: "
                + dev.axfleet.monitor.probe.Tool.oneLine(r.verdict().text(), 160);
    }
}
