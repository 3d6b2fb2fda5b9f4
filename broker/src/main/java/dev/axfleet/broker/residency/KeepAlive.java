package dev.axfleet.broker.residency;

import com.google.gson.JsonElement;
import com.google.gson.JsonPrimitive;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How long a model stays loaded after a request, as Ollama's {@code keep_alive} says it (ollama/ollama
 * api/types.go@fb30760:1243, {@code Duration.UnmarshalJSON}): a number is seconds, a string is a Go duration
 * ({@code "10m"}, {@code "1h30m"}, {@code "-1m"}); any negative value means for ever; {@code 0} means unload once
 * the request is done. On the wire (a job's and a load request's {@code keep_alive}) it is a number of seconds,
 * {@code -1} for ever.
 *
 * @param duration how long after the model's last use it is unloaded; null for ever
 */
public record KeepAlive(Duration duration) {
    /** The longest a value may be (Go's time.Duration tops out at about 292 years; we bound it at 100). */
    private static final Duration MAX = Duration.ofDays(36_525);
    public static final KeepAlive FOREVER = new KeepAlive(null);
    public static final KeepAlive NOW = new KeepAlive(Duration.ZERO);

    /** One Go duration part: a decimal number and its unit (time.ParseDuration's units). */
    private static final Pattern PART = Pattern.compile("(\\d+(?:\\.\\d*)?|\\.\\d+)(ns|us|µs|μs|ms|s|m|h)");

    public KeepAlive {
        if (duration != null && duration.isNegative()) {
            duration = null;
        }
        if (duration != null && duration.compareTo(MAX) > 0) {
            duration = MAX;
        }
    }

    public static KeepAlive of(Duration d) {
        return new KeepAlive(d);
    }

    public boolean forever() {
        return duration == null;
    }

    /** {@code keep_alive: 0}: unload as soon as the request is done. */
    public boolean unloadNow() {
        return duration != null && duration.isZero();
    }

    /** When a model last used at {@code lastUsed} is unloaded; empty for ever. */
    public Optional<Instant> expiry(Instant lastUsed) {
        return forever() ? Optional.empty() : Optional.of(lastUsed.plus(duration));
    }

    /** Seconds for the wire: {@code -1} for ever, fractions kept to the millisecond. */
    public Number seconds() {
        if (forever()) {
            return -1;
        }
        long ms = duration.toMillis();
        return ms % 1000 == 0 ? (Number) (ms / 1000) : (Number) (ms / 1000.0);
    }

    /** As people read it: {@code forever}, {@code 0s}, {@code 10m}, {@code 1h30m}. */
    @Override
    public String toString() {
        if (forever()) {
            return "forever";
        }
        long ms = duration.toMillis();
        if (ms % 1000 != 0) {
            return ms + "ms";
        }
        long s = ms / 1000;
        StringBuilder b = new StringBuilder();
        if (s >= 3600) {
            b.append(s / 3600).append('h');
            s %= 3600;
        }
        if (s >= 60) {
            b.append(s / 60).append('m');
            s %= 60;
        }
        if (s > 0 || b.length() == 0) {
            b.append(s).append('s');
        }
        return b.toString();
    }

    /**
     * A {@code keep_alive} value as Ollama reads it: a JSON number of seconds or a Go duration string.
     *
     * @throws IllegalArgumentException saying what is wrong, for the caller to report against the field
     */
    public static KeepAlive parse(JsonElement e) {
        if (e == null || e.isJsonNull()) {
            throw new IllegalArgumentException("must be a number of seconds or a duration such as \"5m\"");
        }
        if (!e.isJsonPrimitive()) {
            throw new IllegalArgumentException("must be a number of seconds or a duration such as \"5m\", not " + e);
        }
        JsonPrimitive p = e.getAsJsonPrimitive();
        if (p.isNumber()) {
            return seconds(p.getAsBigDecimal());
        }
        if (p.isString()) {
            return parse(p.getAsString());
        }
        throw new IllegalArgumentException("must be a number of seconds or a duration such as \"5m\", not " + e);
    }

    /** A Go duration string ({@code time.ParseDuration}: {@code "300ms"}, {@code "-1.5h"}, {@code "2h45m"}, {@code "0"}). */
    public static KeepAlive parse(String text) {
        String s = text.strip();
        boolean negative = s.startsWith("-");
        String body = negative || s.startsWith("+") ? s.substring(1) : s;
        if (body.equals("0")) {
            return NOW;
        }
        if (body.isEmpty()) {
            throw new IllegalArgumentException("\"" + text + "\" is not a duration (e.g. \"10m\", \"1h30m\", \"-1\" for ever)");
        }
        Matcher m = PART.matcher(body);
        BigDecimal nanos = BigDecimal.ZERO;
        int at = 0;
        while (at < body.length()) {
            if (!m.find(at) || m.start() != at) {
                throw new IllegalArgumentException("\"" + text + "\" is not a duration: a number needs a unit (ns, us, ms, s, m, h), "
                        + "e.g. \"10m\" or \"1h30m\"; a number of seconds is written without quotes");
            }
            nanos = nanos.add(new BigDecimal(m.group(1).startsWith(".") ? "0" + m.group(1) : m.group(1)).multiply(unitNanos(m.group(2))));
            at = m.end();
        }
        if (negative && nanos.signum() > 0) {
            return FOREVER;
        }
        return of(nanos(nanos));
    }

    /** A number of seconds; negative: for ever. */
    public static KeepAlive seconds(BigDecimal seconds) {
        if (seconds.signum() < 0) {
            return FOREVER;
        }
        return of(nanos(seconds.multiply(BigDecimal.valueOf(1_000_000_000L))));
    }

    private static Duration nanos(BigDecimal nanos) {
        BigDecimal max = BigDecimal.valueOf(MAX.getSeconds()).multiply(BigDecimal.valueOf(1_000_000_000L));
        return nanos.compareTo(max) > 0 ? MAX : Duration.ofNanos(nanos.longValue());
    }

    private static BigDecimal unitNanos(String unit) {
        return BigDecimal.valueOf(switch (unit) {
            case "ns" -> 1L;
            case "us", "µs", "μs" -> 1_000L;
            case "ms" -> 1_000_000L;
            case "s" -> 1_000_000_000L;
            case "m" -> 60_000_000_000L;
            default -> 3_600_000_000_000L;
        });
    }
}
