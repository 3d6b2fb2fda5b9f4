package dev.axfleet.deploy.cli;

import dev.axfleet.config.Settings;
import dev.axfleet.deploy.FleetConfig;
import dev.axfleet.deploy.models.ModelCatalog;
import dev.axfleet.gateway.GatewayConfig;
import dev.axfleet.monitor.MonitorConfig;
import dev.axfleet.worker.WorkerConfig;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Checks a settings file the way the processes will read it: every key against the shipped axfleet.conf (which
 * lists each setting with its default), each value against the kind of its default (a duration, a number, true or
 * false), then the typed configs of the gateway, a worker, the monitor and {@code axfleet up} built from it, so a
 * value only they refuse (an unknown runtime.kind) is found too. Each problem names its line.
 */
public final class ConfigCheck {
    /** One problem; {@code line} 0 when it belongs to no line (a setting that is missing). */
    public record Problem(int line, String message) {
    }

    enum Kind { DURATION, INTEGER, DECIMAL, BOOLEAN, TEXT }

    private static final Pattern REFERENCE = Pattern.compile("(?m)^# ([a-z_]+\\.[a-z_.]+) =[ \\t]*(.*?)(?:[ \\t]{2,}\\(.*)?$");
    private static final Pattern LINE = Pattern.compile("^\\s*([^=:\\s]+)\\s*(?:[=:]\\s*|\\s+|$)(.*)$");
    private static final Pattern KEY_IN_MESSAGE = Pattern.compile("\\b([a-z_]+\\.[a-z_]+(?:\\.[a-z_]+)*)\\b");

    private final Map<String, Kind> known;

    ConfigCheck(Map<String, Kind> known) {
        this.known = known;
    }

    /** The settings the shipped axfleet.conf lists, each with the kind of its default. */
    public static ConfigCheck shipped() {
        try (InputStream in = ConfigCheck.class.getResourceAsStream("/dev/axfleet/deploy/axfleet.conf")) {
            if (in == null) {
                throw new IllegalStateException("the shipped axfleet.conf is not on the class path");
            }
            return fromReference(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static ConfigCheck fromReference(String text) {
        Map<String, Kind> known = new LinkedHashMap<>();
        Matcher m = REFERENCE.matcher(text);
        while (m.find()) {
            known.put(m.group(1), kind(m.group(2).strip()));
        }
        return new ConfigCheck(known);
    }

    private static Kind kind(String def) {
        if (def.matches("true|false")) {
            return Kind.BOOLEAN;
        }
        if (def.matches("\\d+(\\.\\d+)?(ms|s|m|h|d)")) {
            return Kind.DURATION;
        }
        if (def.matches("-?\\d+")) {
            return Kind.INTEGER;
        }
        if (def.matches("-?\\d+\\.\\d+")) {
            return Kind.DECIMAL;
        }
        return Kind.TEXT;
    }

    public Set<String> keys() {
        return known.keySet();
    }

    public List<Problem> check(Path file) throws IOException {
        List<Problem> problems = new ArrayList<>();
        Map<String, Integer> lines = new LinkedHashMap<>();
        Set<String> reported = new LinkedHashSet<>();
        List<String> all = Files.readAllLines(file, StandardCharsets.UTF_8);
        for (int i = 0; i < all.size(); i++) {
            String raw = all.get(i);
            int n = i + 1;
            String text = raw.strip();
            if (text.isEmpty() || text.startsWith("#") || text.startsWith("!")) {
                continue;
            }
            Matcher m = LINE.matcher(text);
            if (!m.matches()) {
                problems.add(new Problem(n, "not a setting: '" + text + "' (lines are key = value; # starts a comment)"));
                continue;
            }
            String key = m.group(1);
            String value = m.group(2).strip();
            Integer before = lines.put(key, n);
            if (before != null) {
                problems.add(new Problem(n, key + " is set again (line " + before + "'s value is ignored)"));
            }
            Kind kind = known.get(key);
            if (kind == null) {
                String near = nearest(key);
                problems.add(new Problem(n, "unknown setting " + key + (near == null ? "" : " (did you mean " + near + "?)")));
                reported.add(key);
                continue;
            }
            String wrong = wrongValue(key, kind, value);
            if (wrong == null) {
                wrong = aliasInsteadOfName(key, value);
            }
            if (wrong != null) {
                problems.add(new Problem(n, wrong));
                reported.add(key);
            }
        }
        // The processes' own checks, on the values that passed the ones above.
        Settings settings = Settings.load(file, Map.of());
        Settings worker = settings.string("worker.model", null) == null ? settings.with(Map.of("worker.model", "MODEL")) : settings;
        List<Consumer<Settings>> configs = List.of(GatewayConfig::from, MonitorConfig::from, FleetConfig::from, WorkerConfig::from);
        Set<String> said = new LinkedHashSet<>();
        for (int c = 0; c < configs.size(); c++) {
            try {
                configs.get(c).accept(c == 3 ? worker : settings);
            } catch (IllegalArgumentException e) {
                String message = e.getMessage();
                Matcher k = KEY_IN_MESSAGE.matcher(message == null ? "" : message);
                String key = k.find() ? k.group(1) : null;
                if (key != null && reported.contains(key) || !said.add(message)) {
                    continue;
                }
                problems.add(new Problem(key == null ? 0 : lines.getOrDefault(key, 0), message));
            }
        }
        problems.sort((a, b) -> Integer.compare(a.line(), b.line()));
        return problems;
    }

    private static String wrongValue(String key, Kind kind, String value) {
        if (value.isEmpty()) {
            return null; // empty means "the default", as the processes read it
        }
        return switch (kind) {
            case DURATION -> Settings.parseDuration(value).isPresent() ? null
                    : key + " must be a duration like 300ms, 30s, 5m, 2h or 1d, not '" + value + "'";
            case INTEGER -> value.matches("-?\\d{1,18}") ? null : key + " must be a whole number, not '" + value + "'";
            case DECIMAL -> value.matches("-?\\d+(\\.\\d+)?") ? null : key + " must be a number, not '" + value + "'";
            case BOOLEAN -> value.toLowerCase(Locale.ROOT).matches("1|0|true|false|yes|no|on|off") ? null
                    : key + " must be true or false, not '" + value + "'";
            case TEXT -> null;
        };
    }

    /** Settings that name models: each must use a model's one name, which its unit, folder and topic use. */
    private static final Set<String> MODEL_NAMES = Set.of("gateway.models", "gateway.image_model", "fleet.models", "fleet.image_model",
            "worker.model", "gateway.fallback_model", "gateway.conversational_models");

    private static String aliasInsteadOfName(String key, String value) {
        if (!MODEL_NAMES.contains(key)) {
            return null;
        }
        ModelCatalog catalog = ModelCatalog.builtIn();
        for (String item : value.split(",")) {
            String name = item.split("=", 2)[0].trim();
            String id = catalog.canonical(name);
            if (!name.isEmpty() && !id.equals(name)) {
                return key + " names " + name + ", which is the model " + id + ": write " + id + " (the name its unit, folder and topic use)";
            }
        }
        return null;
    }

    /** The known key closest to a mistyped one, when it is close (at most 3 edits). */
    private String nearest(String key) {
        String best = null;
        int bestDistance = 4;
        for (String k : known.keySet()) {
            int d = distance(key, k);
            if (d < bestDistance) {
                bestDistance = d;
                best = k;
            }
        }
        return best;
    }

    private static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1));
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
