package dev.axfleet.gateway;

import dev.axfleet.broker.JobError;
import dev.axfleet.broker.JobResult;
import java.util.Map;

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

    public ApiException(int status, String message, String param, String code, Map<String, String> headers) {
        super(message);
        this.status = status;
        this.param = param;
        this.code = code;
        this.headers = Map.copyOf(headers);
    }

    public static ApiException badRequest(String param, String message) {
        return new ApiException(400, param == null ? message : param + ": " + message, param, "invalid_request", Map.of());
    }

    public static ApiException modelNotFound(String model, Iterable<String> known) {
        return new ApiException(404, "model '" + model + "' not found; models here: " + String.join(", ", known),
                "model", "model_not_found", Map.of());
    }

    /** Nothing was queued, so a retry is safe and welcome after {@code retryAfterSeconds}. */
    public static ApiException busy(String message, int retryAfterSeconds) {
        return new ApiException(503, message, null, "server_busy", Map.of("Retry-After", String.valueOf(retryAfterSeconds)));
    }

    /**
     * A job that did not end in an answer. Statuses that make the OpenAI SDKs retry by themselves (5xx)
     * carry {@code X-Should-Retry: false}: the work was done or tried, and a retry would do it again.
     */
    public static ApiException fromResult(JobResult r) {
        JobError e = r.error();
        String message = e == null ? r.outcome().wire() : e.message();
        Map<String, String> noRetry = Map.of("X-Should-Retry", "false");
        return switch (r.outcome()) {
            case EXPIRED -> new ApiException(504, "the job expired before a worker ran it: " + message, null, "timeout", noRetry);
            case CANCELLED -> new ApiException(499, "the job was cancelled: " + message, null, "cancelled", Map.of());
            case DONE -> throw new IllegalArgumentException("a finished job is not an error");
            case ERROR -> switch (e == null ? "" : e.code()) {
                case JobError.INVALID_JOB -> new ApiException(400, message, e.field(), "invalid_request", Map.of());
                case JobError.CONTEXT_LENGTH_EXCEEDED -> new ApiException(400, message, "messages", JobError.CONTEXT_LENGTH_EXCEEDED, Map.of());
                case "broker_unavailable", "gateway_stopping", "no_worker" -> busy(message, 5);
                default -> new ApiException(502, "the model's runtime failed: " + message, null, e == null ? "runtime_error" : e.code(), noRetry);
            };
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
