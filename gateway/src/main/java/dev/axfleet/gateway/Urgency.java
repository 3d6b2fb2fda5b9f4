package dev.axfleet.gateway;

import dev.axfleet.broker.Priority;
import java.math.BigDecimal;
import java.time.Duration;
import spark.Request;

/**
 * How urgent a request's job is: its priority, and how long its caller waits for the answer (docs/protocol.md,
 * "Priority and deadlines over HTTP"). From any API: the headers {@value #PRIORITY_HEADER} ({@code high}, {@code normal},
 * {@code low}) and {@value #TIMEOUT_HEADER} (seconds), and a body field where a facade reads one ({@code priority} in
 * OpenAI's and Ollama's bodies, OpenAI's {@code service_tier}), which wins over the header. The job's {@code expires_at}
 * is the shorter of the caller's timeout and {@code gateway.request_timeout}, and so is the gateway's own wait.
 * <p>
 * The OpenAI SDKs' {@code X-Stainless-Timeout} is not read as a deadline: it is one try's timeout, after which the SDK
 * sends the request again by itself (twice by default), and each try takes over the job the first started
 * ({@code SameRequests}); a deadline from it would answer "would not finish" to a caller that is still willing to wait.
 */
public final class Urgency {
    public static final String PRIORITY_HEADER = "X-Axfleet-Priority";
    public static final String TIMEOUT_HEADER = "X-Request-Timeout";
    private static final String ATTRIBUTE = Urgency.class.getName();

    private final String header;
    private final String timeoutHeader;
    private String field;
    private String fieldName;
    private Priority fromTier;

    private Urgency(String header, String timeoutHeader) {
        this.header = header;
        this.timeoutHeader = timeoutHeader;
    }

    /** The urgency of {@code request}, read from its headers the first time it is asked for. */
    public static Urgency of(Request request) {
        Urgency u = request.attribute(ATTRIBUTE);
        if (u == null) {
            u = new Urgency(request.headers(PRIORITY_HEADER), request.headers(TIMEOUT_HEADER));
            request.attribute(ATTRIBUTE, u);
        }
        return u;
    }

    /** The urgency of a job that did not come over HTTP, or whose request said nothing. */
    static Urgency none() {
        return new Urgency(null, null);
    }

    /**
     * What a JSON body says: its {@code priority} (a string), and OpenAI's {@code service_tier}. A priority that names none
     * is a 400 at once.
     */
    public void read(com.google.gson.JsonObject body) throws ApiException {
        com.google.gson.JsonElement p = body.get("priority");
        if (p != null && !p.isJsonNull()) {
            if (!p.isJsonPrimitive() || !p.getAsJsonPrimitive().isString()) {
                throw ApiException.badRequest("priority", "must be a string, one of " + Priority.known());
            }
            this.fieldName = "priority";
            this.field = p.getAsString();
            priority();
        }
        com.google.gson.JsonElement tier = body.get("service_tier");
        if (tier != null && tier.isJsonPrimitive() && tier.getAsJsonPrimitive().isString()) {
            serviceTier(tier.getAsString());
        }
    }

    /**
     * OpenAI's {@code service_tier}: {@code priority} (faster processing, OpenAI's own higher tier) is high, {@code flex}
     * (slower, cheaper) is low, anything else normal. A {@code priority} field or header wins over it.
     */
    public void serviceTier(String tier) {
        if (tier != null) {
            fromTier = switch (tier) {
                case "priority" -> Priority.HIGH;
                case "flex" -> Priority.LOW;
                default -> Priority.NORMAL;
            };
        }
    }

    /** The job's priority; 400 naming the field or header when it names no priority. */
    public Priority priority() throws ApiException {
        if (field != null) {
            return parse(fieldName, field);
        }
        if (header != null) {
            return parse(PRIORITY_HEADER, header);
        }
        return fromTier != null ? fromTier : Priority.NORMAL;
    }

    private static Priority parse(String where, String value) throws ApiException {
        return Priority.parse(value).orElseThrow(() -> ApiException.badRequest(where, "'" + value + "' is not a priority; use one of "
                + Priority.known()));
    }

    /**
     * How long the job's caller waits: the shorter of its own timeout, when it said one, and the gateway's {@code limit}.
     * A {@value #TIMEOUT_HEADER} that is not a positive number of seconds is a 400.
     */
    public Duration timeout(Duration limit) throws ApiException {
        Duration mine = limit;
        if (timeoutHeader != null) {
            Duration d = seconds(timeoutHeader);
            if (d == null) {
                throw ApiException.badRequest(TIMEOUT_HEADER, "'" + timeoutHeader + "' is not a positive number of seconds");
            }
            mine = min(mine, d);
        }
        return mine;
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }

    private static Duration seconds(String value) {
        try {
            BigDecimal s = new BigDecimal(value.trim());
            if (s.signum() <= 0 || s.compareTo(BigDecimal.valueOf(86_400L * 365)) > 0) {
                return null;
            }
            return Duration.ofMillis(Math.max(1, s.movePointRight(3).longValue()));
        } catch (NumberFormatException e) {
            return null;
        }
    }
}
