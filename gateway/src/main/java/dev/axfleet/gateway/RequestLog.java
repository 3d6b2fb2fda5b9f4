package dev.axfleet.gateway;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import spark.Request;
import spark.Response;

/** One log line and one metrics sample per HTTP request, with the job it became. */
public final class RequestLog {
    private static final Logger log = LoggerFactory.getLogger("http");
    private static final String ATTRIBUTE = RequestLog.class.getName();

    private final long start = System.nanoTime();
    private final Urgency urgency;
    private String jobId = "-";
    private String model = "-";

    private RequestLog(Urgency urgency) {
        this.urgency = urgency;
    }

    /** For jobs that no HTTP request asked for itself (a voice turn's, Wyoming's): the default priority and timeout. */
    public RequestLog() {
        this(Urgency.none());
    }

    public static RequestLog of(Request request) {
        RequestLog l = request.attribute(ATTRIBUTE);
        if (l == null) {
            l = new RequestLog(Urgency.of(request));
            request.attribute(ATTRIBUTE, l);
        }
        return l;
    }

    /** The priority and timeout the request asked for its job ({@link Urgency}). */
    public Urgency urgency() {
        return urgency;
    }

    public String jobId() {
        return jobId;
    }

    public void job(String id, String model) {
        this.jobId = id;
        this.model = model;
    }

    static void finish(Request request, Response response, Metrics metrics) {
        RequestLog l = of(request);
        long nanos = System.nanoTime() - l.start;
        long ms = nanos / 1_000_000;
        int status = response.raw().getStatus();
        metrics.request(request.requestMethod(), request.pathInfo(), status, nanos);
        log.info("{} {} {} {}ms job={} model={}", request.requestMethod(), request.pathInfo(), status, ms, l.jobId, l.model);
    }
}
