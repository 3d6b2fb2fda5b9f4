package dev.axfleet.gateway;

import dev.axfleet.broker.ErrorCode;
import dev.axfleet.broker.JobError;
import dev.axfleet.broker.JobResult;
import dev.axfleet.broker.Kind;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * A request that cannot be answered, with the HTTP status and headers it gets. Each facade writes the body
 * in its own format (OpenAI error object, Ollama {"error"}, A1111 {"detail"}).
 *
 * @param param the request field at fault, or null
 * @param code  a stable word ({@code model_not_found}, {@code context_length_exceeded}, ...)
 */
public final class ApiException extends Exception {
    private final int status;
    private final String param;
    private final String code;
    private final Map<String, String> headers;
    /** Fields a facade adds to its error object, e.g. the model's {@code last_text} when its JSON was not valid. */
    private final Map<String, String> extra;

    public ApiException(int status, String message, String param, String code, Map<String, String> headers) {
        this(status, message, param, code, headers, Map.of());
    }

    private ApiException(int status, String message, String param, String code, Map<String, String> headers, Map<String, String> extra) {
        super(message);
        this.status = status;
        this.param = param;
        this.code = code;
        this.headers = Map.copyOf(headers);
        this.extra = Map.copyOf(extra);
    }

    /** The same error with a field more in its body. */
    public ApiException with(String key, String value) {
        java.util.Map<String, String> more = new java.util.TreeMap<>(extra);
        more.put(key, value);
        ApiException e = new ApiException(status, getMessage(), param, code, headers, more);
        e.setStackTrace(getStackTrace());
        return e;
    }

    public Map<String, String> extra() {
        return extra;
    }

    public static ApiException badRequest(String param, String message) {
        return new ApiException(400, param == null ? message : param + ": " + message, param, "invalid_request", Map.of());
    }

    public static ApiException modelNotFound(String model, Iterable<String> known) {
        return new ApiException(404, "model '" + model + "' not found; models here: " + String.join(", ", known),
                "model", "model_not_found", Map.of());
    }

    /** The model exists but does other work: say what it does and which models do this. */
    public static ApiException wrongKind(String model, Kind asked, Set<Kind> does, List<String> doers) {
        Set<String> kinds = new TreeSet<>();
        does.forEach(k -> kinds.add(k.wire()));
        return new ApiException(400, "model '" + model + "' is " + (kinds.isEmpty() ? "not ready yet" : "a " + String.join(" and ", kinds)
                + " model") + " and does no " + asked.wire() + (doers.isEmpty() ? "; no model here does" : "; models that do: "
                + String.join(", ", doers)), "model", "model_not_supported", Map.of());
    }

    /** Nothing was queued, so a retry is safe and welcome after {@code retryAfterSeconds}. */
    public static ApiException busy(String message, int retryAfterSeconds) {
        return new ApiException(503, message, null, "server_busy", Map.of("Retry-After", String.valueOf(retryAfterSeconds)));
    }

    /**
     * A job that did not end in an answer: the one table from the wire's error codes to HTTP statuses, which each
     * facade writes in its own shape. Statuses that make the OpenAI SDKs retry by themselves (5xx) carry
     * {@code X-Should-Retry: false}: the work was done or tried, and a retry would do it again.
     */
    public static ApiException fromResult(JobResult r) {
        JobError e = r.error();
        String message = e == null ? r.outcome().wire() : e.message();
        Map<String, String> noRetry = Map.of("X-Should-Retry", "false");
        ErrorCode code = e != null ? e.code() : switch (r.outcome()) {
            case EXPIRED -> ErrorCode.EXPIRED;
            case CANCELLED -> ErrorCode.CANCELLED;
            case DONE -> throw new IllegalArgumentException("a finished job is not an error");
            case ERROR -> ErrorCode.RUNTIME_ERROR;
        };
        return switch (code) {
            case INVALID_JOB -> new ApiException(400, message, e == null ? null : e.field(), "invalid_request", Map.of());
            case REJECTED -> new ApiException(400, "the model's runtime refused the input: " + message, e == null ? null : e.field(),
                    "invalid_request", Map.of());
            case CONTEXT_LENGTH_EXCEEDED -> new ApiException(400, message, r.task() == dev.axfleet.broker.Task.EMBED ? "input" : "messages",
                    code.wire(), Map.of());
            case EXPIRED -> new ApiException(504, "the job expired before a worker ran it: " + message, null, "timeout", noRetry);
            case TIMEOUT -> new ApiException(504, message, null, "timeout", noRetry);
            case CANCELLED -> new ApiException(499, "the job was cancelled: " + message, null, "cancelled", Map.of());
            case BROKER_UNAVAILABLE, GATEWAY_STOPPING, NO_WORKER -> busy(message, 5);
            // Answered before it ran: the queue ahead would take it past the caller's deadline. A retry at once would
            // meet the same queue, so the SDKs are told not to retry on their own.
            case WOULD_NOT_FINISH -> new ApiException(503, "would not finish in time: " + message, null, code.wire(), noRetry);
            // StackFlow's OpenAI plugin answers the same case 503 "Insufficient Memory Resource" (api_server.py@a8f54b0).
            case INSUFFICIENT_MEMORY -> new ApiException(503, "insufficient card memory: " + message, null, code.wire(), noRetry);
            case RUNTIME_ERROR, RUNTIME_UNAVAILABLE -> new ApiException(502, "the model's runtime failed: " + message, null, code.wire(), noRetry);
            // The request was fine and the model answered, but not in the form asked: the same request would most
            // likely get the same answer (greedy decoding), so the SDKs are told not to retry; the text is attached.
            case JSON_VALIDATION_FAILED, TOOL_CALL_MALFORMED -> new ApiException(422, message, e == null ? null : e.field(), code.wire(),
                    noRetry).with("last_text", e == null || e.detail() == null ? "" : e.detail());
        };
    }

    public static ApiException timeout(java.time.Duration after) {
        return new ApiException(504, "no answer within " + after.toSeconds() + " s; the job was cancelled", null, "timeout",
                Map.of("X-Should-Retry", "false"));
    }

    /** Every client that asked for the job closed its connection (nginx's 499); nobody reads this answer. */
    public static ApiException clientGone() {
        return new ApiException(499, "the client closed the connection; the job was dropped", null, "cancelled", Map.of());
    }

    public int status() {
        return status;
    }

    public String param() {
        return param;
    }

    public String code() {
        return code;
    }

    public Map<String, String> headers() {
        return headers;
    }
}
