package dev.axfleet.deploy.doctor;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.axfleet.deploy.Axfleet;
import dev.axfleet.monitor.probe.Tool;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ConnectException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** axfleet's own side: the fleet that runs here, and a pulled model folder as the runtime reads it. */
final class FleetChecks {
    /** Keys {@code axllm serve} requires in config.json (docs/hardware.md F1: main.cpp@00d7aaf ModelConfig::load_from_json). */
    static final List<String> REQUIRED_KEYS = List.of("model_name", "tokenizer_type", "url_tokenizer_model", "template_filename_axmodel",
            "axmodel_num", "filename_post_axmodel", "filename_tokens_embed", "tokens_embed_num", "tokens_embed_size");

    private FleetChecks() {
    }

    static List<Check> all() {
        return List.of(
                Check.of("U9", "the whole fleet on the card", Duration.ofSeconds(30), Set.of(), List.of(), FleetChecks::fleet),
                Check.of("U10", "a pulled model runs as it is", Duration.ofMinutes(10), Set.of(), List.of("F1", "F15"), FleetChecks::pulled));
    }

    static Verdict fleet(Lab lab) throws Exception {
        String bind = lab.settings().string("gateway.bind", "127.0.0.1");
        int port = lab.settings().integer("gateway.port", 8080);
        String host = bind.equals("0.0.0.0") || bind.equals("::") ? "127.0.0.1" : bind;
        HttpResponse<String> r;
        try {
            r = Lab.get(port, "/health");
        } catch (ConnectException e) {
            throw new Verdict.Skip("no axfleet gateway answers on " + host + ":" + port + " (gateway.port): start the services "
                    + "(sudo systemctl start axfleet-gateway 'axfleet-worker@*') and run doctor again");
        }
        lab.note("GET /health -> " + r.statusCode() + " " + Tool.oneLine(r.body(), 600));
        JsonObject h;
        try {
            h = JsonParser.parseString(r.body()).getAsJsonObject();
        } catch (RuntimeException e) {
            return Verdict.differs(host + ":" + port + "/health answered " + r.statusCode() + " without the gateway's JSON");
        }
        boolean emulated = h.has("emulated") && h.get("emulated").getAsBoolean();
        List<String> runtimes = new ArrayList<>();
        if (h.has("models") && h.get("models").isJsonObject()) {
            for (var m : h.getAsJsonObject("models").entrySet()) {
                for (JsonElement w : m.getValue().getAsJsonObject().getAsJsonArray("workers")) {
                    JsonObject wo = w.getAsJsonObject();
                    runtimes.add(m.getKey() + ": " + wo.get("phase").getAsString() + " " + wo.get("runtime").getAsString()
                            + (wo.has("emulated") && wo.get("emulated").getAsBoolean() ? " EMULATED" : ""));
                }
            }
        }
        String seen = "status " + h.get("status").getAsString() + ", emulated " + emulated + ", workers " + runtimes;
        if (lab.emulated()) {
            return emulated ? Verdict.verified("the fleet here says it is EMULATED, as it must with no card: " + seen)
                    : Verdict.differs("the fleet says it is not emulated on a machine without the card: " + seen);
        }
        return emulated || runtimes.stream().anyMatch(x -> x.endsWith("EMULATED"))
                ? Verdict.differs("the fleet runs the EMULATOR, not the card (/health says emulated): " + seen)
                : Verdict.verified("the fleet runs on the card (/health: emulated false): " + seen);
    }

    static Verdict pulled(Lab lab) throws Exception {
        String id = lab.target().chatModel();
        Path dir = Path.of(lab.target().chatWorker(0, false).string("runtime.model_dir", ""));
        List<String> off = new ArrayList<>();
        if (lab.emulated()) {
            lab.note("an emulated model folder: not pulled, so `axfleet models verify` has no listing to check it against");
        } else {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            PrintStream ps = new PrintStream(out, true, StandardCharsets.UTF_8);
            int exit = Axfleet.run(new String[] {"models", "verify", id}, lab.settings(), ps, ps);
            lab.output("$ axfleet models verify " + id + " (exit " + exit + ")", out.toString(StandardCharsets.UTF_8));
            if (exit != 0) {
                off.add("axfleet models verify " + id + " found problems (exit " + exit + ")");
            }
        }
        Path config = dir.resolve("config.json");
        if (!Files.isRegularFile(config)) {
            off.add(config + " is missing (axllm serve needs it, F1)");
        } else if (Files.size(config) == 0) {
            off.add(config + " is 0 bytes (the 2025 revisions of the model repositories): pin a newer revision "
                    + "(axfleet models pull " + id + " --revision COMMIT) or write it by hand, and say which revision works");
        } else {
            try {
                JsonElement e = JsonParser.parseString(Files.readString(config));
                List<String> missing = REQUIRED_KEYS.stream().filter(k -> !e.isJsonObject() || !e.getAsJsonObject().has(k)).toList();
                if (!missing.isEmpty()) {
                    off.add(config + " lacks " + missing);
                }
                lab.note(config + ": model_name " + (e.isJsonObject() && e.getAsJsonObject().has("model_name")
                        ? e.getAsJsonObject().get("model_name") : "-") + ", sha256 " + Host.sha256(config));
            } catch (IOException | RuntimeException e) {
                off.add(config + " is not JSON: " + e.getMessage());
            }
        }
        return off.isEmpty() ? Verdict.verified(id + " in " + dir + ": " + (lab.emulated() ? "" : "every file as listed, ") + "config.json has every key "
                + "axllm serve requires (U1 starts it)") : Verdict.differs(String.join("; ", off));
    }
}
