package dev.axfleet.config;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Settings of one process: a {@code key = value} file (comments with {@code #}) overridden by
 * environment variables. Key {@code gateway.port} is overridden by {@code AXFLEET_GATEWAY_PORT}.
 * Each process turns these into its own typed config record and prints it once at start.
 */
public final class Settings {
    private final Map<String, String> overrides;
    private final Properties file;
    private final Map<String, String> env;
    private final String source;

    private Settings(Map<String, String> overrides, Properties file, Map<String, String> env, String source) {
        this.overrides = Map.copyOf(overrides);
        this.file = file;
        this.env = env;
        this.source = source;
    }

    /** Reads {@code path} when it exists; the environment always applies. */
    public static Settings load(Path path, Map<String, String> env) {
        Properties p = new Properties();
        String source = "environment only";
        if (path != null && Files.isRegularFile(path)) {
            try (Reader r = Files.newBufferedReader(path, StandardCharsets.UTF_8)) {
                p.load(r);
                source = path + " + environment";
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + path, e);
            }
        }
        return new Settings(Map.of(), p, env, source);
    }

    /** Settings from the file named by {@code AXFLEET_CONFIG} (default /etc/axfleet/axfleet.conf) and the environment. */
    public static Settings fromEnvironment() {
        Map<String, String> env = System.getenv();
        return load(Path.of(env.getOrDefault("AXFLEET_CONFIG", "/etc/axfleet/axfleet.conf")), env);
    }

    public static Settings of(Map<String, String> values) {
        Properties p = new Properties();
        p.putAll(values);
        return new Settings(Map.of(), p, Map.of(), "given values");
    }

    /** These settings with {@code values} in force over the file and the environment (for launchers). */
    public Settings with(Map<String, String> values) {
        Map<String, String> merged = new java.util.HashMap<>(overrides);
        merged.putAll(values);
        return new Settings(merged, file, env, source);
    }

    /** This machine's name, made safe for topic segments and ids (default worker and gateway names). */
    public static String hostname() {
        try {
            return java.net.InetAddress.getLocalHost().getHostName().replaceAll("[^A-Za-z0-9._-]", "-");
        } catch (java.net.UnknownHostException e) {
            return "axfleet";
        }
    }

    public static String envName(String key) {
        return "AXFLEET_" + key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
    }

    /** Where the values came from, for the start-up line. */
    public String source() {
        return source;
    }

    public String string(String key, String fallback) {
        String v = raw(key);
        return v == null || v.isBlank() ? fallback : v.trim();
    }

    /** As {@link #string}, but a key set to nothing reads as "" (a setting whose empty value means "none"). */
    public String stringOrNone(String key, String fallback) {
        String v = raw(key);
        return v == null ? fallback : v.trim();
    }

    private String raw(String key) {
        String v = overrides.get(key);
        if (v == null) {
            v = env.get(envName(key));
        }
        if (v == null) {
            v = file.getProperty(key);
        }
        return v;
    }

    public int integer(String key, int fallback) {
        String v = string(key, null);
        try {
            return v == null ? fallback : Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + " must be an integer, not '" + v + "'");
        }
    }

    public double decimal(String key, double fallback) {
        String v = string(key, null);
        try {
            return v == null ? fallback : Double.parseDouble(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + " must be a number, not '" + v + "'");
        }
    }

    public boolean bool(String key, boolean fallback) {
        String v = string(key, null);
        if (v == null) {
            return fallback;
        }
        return switch (v.toLowerCase(Locale.ROOT)) {
            case "1", "true", "yes", "on" -> true;
            case "0", "false", "no", "off" -> false;
            default -> throw new IllegalArgumentException(key + " must be true or false, not '" + v + "'");
        };
    }

    /** A duration written as {@code 300ms}, {@code 30s}, {@code 5m}, {@code 2h}, {@code 1d} or a number of milliseconds. */
    public Duration duration(String key, Duration fallback) {
        String v = string(key, null);
        if (v == null) {
            return fallback;
        }
        return parseDuration(v).orElseThrow(() -> new IllegalArgumentException(key + " must be a duration like 300ms, 30s, 5m, 2h or 1d,"
                + " not '" + v + "'"));
    }

    /**
     * {@code 300ms}, {@code 30s} (decimals allowed: {@code 0.5s}), {@code 5m}, {@code 2h}, {@code 1d}, or plain
     * milliseconds; empty when {@code text} is none of these or negative.
     */
    public static Optional<Duration> parseDuration(String text) {
        Matcher m = DURATION.matcher(text.trim());
        if (!m.matches()) {
            return Optional.empty();
        }
        double amount = Double.parseDouble(m.group(1));
        long unitMs = switch (m.group(2) == null ? "" : m.group(2)) {
            case "", "ms" -> 1L;
            case "s" -> 1_000L;
            case "m" -> 60_000L;
            case "h" -> 3_600_000L;
            default -> 86_400_000L; // d
        };
        double ms = amount * unitMs;
        if (ms > Long.MAX_VALUE / 2) {
            return Optional.empty();
        }
        return Optional.of(Duration.ofMillis(Math.round(ms)));
    }

    private static final Pattern DURATION = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*(ms|s|m|h|d)?");
}
