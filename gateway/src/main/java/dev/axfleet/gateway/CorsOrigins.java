package dev.axfleet.gateway;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The web origins whose pages may call the gateway from a browser ({@code gateway.cors_origins}), as Ollama's
 * {@code OLLAMA_ORIGINS}: the origins configured, then always Ollama's defaults (ollama/ollama@fb30760
 * envconfig/config.go:86-109, {@code AllowedOrigins}): {@code http(s)://localhost}, {@code 127.0.0.1} and
 * {@code 0.0.0.0} with or without any port, and the desktop shells {@code app://*}, {@code file://*},
 * {@code tauri://*}, {@code vscode-webview://*}, {@code vscode-file://*}. {@code *} alone lets every origin in.
 *
 * <p>A pattern holds at most one {@code *} (as gin-contrib/cors, which Ollama uses, allows). A {@code :*} at the end
 * is a port: digits only, so {@code http://localhost:*} does not let {@code http://localhost.example.com} in
 * (gin-contrib/cors v1.7 config.go {@code parseWildcardRules} drops the {@code :} and would). Elsewhere {@code *}
 * stands for any characters but {@code /}.
 */
public record CorsOrigins(List<String> configured, boolean any, List<Pattern> patterns) {
    /** Ollama's own list, in its order (envconfig/config.go:91-106). */
    static final List<String> OLLAMA_DEFAULTS = defaults();

    private static List<String> defaults() {
        List<String> out = new ArrayList<>();
        for (String host : List.of("localhost", "127.0.0.1", "0.0.0.0")) {
            out.addAll(List.of("http://" + host, "https://" + host, "http://" + host + ":*", "https://" + host + ":*"));
        }
        out.addAll(List.of("app://*", "file://*", "tauri://*", "vscode-webview://*", "vscode-file://*"));
        return List.copyOf(out);
    }

    public CorsOrigins {
        configured = List.copyOf(configured);
        patterns = List.copyOf(patterns);
    }

    /** From the setting's comma-separated origins; Ollama's defaults are always added. */
    public static CorsOrigins parse(String setting) {
        List<String> configured = new ArrayList<>();
        for (String part : setting == null ? new String[0] : setting.split(",")) {
            String origin = part.strip();
            if (!origin.isEmpty()) {
                configured.add(origin);
            }
        }
        boolean any = configured.contains("*");
        List<Pattern> patterns = new ArrayList<>();
        for (String origin : configured) {
            if (!origin.equals("*")) {
                patterns.add(compile(origin));
            }
        }
        OLLAMA_DEFAULTS.forEach(o -> patterns.add(compile(o)));
        return new CorsOrigins(configured, any, patterns);
    }

    private static Pattern compile(String origin) {
        String o = origin.toLowerCase(Locale.ROOT);
        if (o.endsWith("/")) {
            o = o.substring(0, o.length() - 1);
        }
        int star = o.indexOf('*');
        if (star >= 0 && o.indexOf('*', star + 1) >= 0) {
            throw new IllegalArgumentException("gateway.cors_origins: '" + origin + "' has more than one '*'");
        }
        if (!o.contains("://")) {
            throw new IllegalArgumentException("gateway.cors_origins: '" + origin
                    + "' is not an origin: write scheme://host[:port], e.g. https://editor.p5js.org or http://192.168.4.20:*");
        }
        if (star < 0) {
            return Pattern.compile(Pattern.quote(o));
        }
        String before = o.substring(0, star);
        String after = o.substring(star + 1);
        if (before.endsWith(":") && after.isEmpty()) {
            return Pattern.compile(Pattern.quote(before) + "\\d{1,5}");
        }
        return Pattern.compile((before.isEmpty() ? "" : Pattern.quote(before)) + "[^/]*" + (after.isEmpty() ? "" : Pattern.quote(after)));
    }

    /** Whether a page from {@code origin} (the browser's {@code Origin} header) may call. */
    public boolean allows(String origin) {
        if (any) {
            return true;
        }
        String o = origin.toLowerCase(Locale.ROOT);
        return patterns.stream().anyMatch(p -> p.matcher(o).matches());
    }

    public String describe() {
        return "gateway.cors_origins=" + (any ? "* (any web page may call)" : configured.isEmpty() ? "(none added)" : String.join(",", configured))
                + (any ? "" : " + Ollama's defaults (http(s)://localhost, 127.0.0.1, 0.0.0.0 on any port; app, file, tauri, vscode)");
    }
}
