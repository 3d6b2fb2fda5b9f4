package dev.axfleet.deploy.doctor;

import dev.axfleet.config.Settings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Takes secrets out of the report before anyone pastes it into an issue: the values of the settings and environment
 * variables that hold passwords, tokens and keys, the contents of the key and token files they name, and anything that
 * looks like one (a bearer token, an OpenAI or Hugging Face key, a password in a URL or after {@code password=}).
 */
final class Redactor {
    static final String MARK = "[redacted]";
    /** Settings whose values are secrets (docs/configuration.md). */
    static final List<String> SECRET_SETTINGS = List.of("models.token", "worker.mqtt_password", "gateway.mqtt_password", "monitor.mqtt_password",
            "gateway.api_key", "gateway.admin_token");
    /** Settings that name a file holding a secret. */
    static final List<String> SECRET_FILES = List.of("gateway.api_key_file", "gateway.admin_token_file");
    private static final Pattern SECRET_NAME = Pattern.compile("(?i).*(password|passwd|secret|token|api_?key).*");
    private static final List<Pattern> SHAPES = List.of(
            Pattern.compile("(?i)(bearer\\s+)[A-Za-z0-9._~+/=-]{6,}"),
            Pattern.compile("\\bsk-[A-Za-z0-9_-]{8,}"),
            Pattern.compile("\\bhf_[A-Za-z0-9]{8,}"),
            Pattern.compile("(://[^:/@\\s]+:)[^@\\s]+(@)"),
            Pattern.compile("(?i)((?:password|passwd|secret|token|api[_-]?key)[\"']?\\s*[=:]\\s*[\"']?)[^\\s\"',}]+"));

    private final List<String> values = new ArrayList<>();

    Redactor(Settings settings, Map<String, String> env) {
        for (String key : SECRET_SETTINGS) {
            add(settings.string(key, null));
        }
        for (String key : SECRET_FILES) {
            String file = settings.string(key, null);
            if (file != null) {
                try {
                    add(Files.readString(Path.of(file)).strip());
                } catch (IOException | RuntimeException e) {
                    // Not readable here: then it cannot leak into the report either.
                }
            }
        }
        for (Map.Entry<String, String> e : env.entrySet()) {
            if (SECRET_NAME.matcher(e.getKey()).matches() && !e.getKey().toLowerCase(Locale.ROOT).endsWith("_file")) {
                add(e.getValue());
            }
        }
        values.sort((a, b) -> b.length() - a.length());
    }

    private void add(String v) {
        if (v != null && v.length() >= 4) {
            values.add(v);
        }
    }

    /** Whether a setting's value is a secret by its name. */
    static boolean secretKey(String key) {
        return SECRET_SETTINGS.contains(key) || SECRET_NAME.matcher(key).matches() && !key.endsWith("_file");
    }

    String clean(String text) {
        if (text == null) {
            return null;
        }
        String out = text;
        for (String v : values) {
            out = out.replace(v, MARK);
        }
        for (Pattern p : SHAPES) {
            out = p.matcher(out).replaceAll(m -> java.util.regex.Matcher.quoteReplacement(
                    (m.groupCount() >= 1 && m.group(1) != null ? m.group(1) : "") + MARK + (m.groupCount() >= 2 && m.group(2) != null ? m.group(2) : "")));
        }
        return out;
    }
}
