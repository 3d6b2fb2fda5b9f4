package dev.axfleet.gateway;

import dev.axfleet.gateway.openai.OpenAiFacade;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import spark.Service;
import spark.routematch.RouteMatch;
import spark.embeddedserver.EmbeddedServers;

/**
 * The gateway's HTTP listeners: its own port and, with the classic ports on, one per old server. Each gets the
 * same request log, API key check, error handling and drain accounting; a port that cannot be had is reported by
 * number and the others serve on.
 */
final class Listeners implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Listeners.class);

    private final String bind;
    private final HttpLimits limits;
    private final ApiKey apiKey;
    private final Cors cors;
    private final Metrics metrics;
    private final AtomicInteger inFlight;
    private final List<Service> open = new ArrayList<>();
    private final Map<Integer, String> states = new TreeMap<>();

    Listeners(String bind, HttpLimits limits, ApiKey apiKey, Cors cors, Metrics metrics, AtomicInteger inFlight) {
        this.bind = bind;
        this.limits = limits;
        this.apiKey = apiKey;
        this.cors = cors;
        this.metrics = metrics;
        this.inFlight = inFlight;
    }

    /** Listens on {@code port} (0: any free one) with {@code routes}; null when the port cannot be had. */
    Service open(int port, int maxThreads, Consumer<Service> routes) {
        Service http = Service.ignite().ipAddress(bind).port(port).threadPool(maxThreads, Math.min(8, maxThreads), 60_000);
        // Each listener runs on a GatewayServer of its own (spark finds it by this identifier).
        Object server = new Object();
        EmbeddedServers.add(server, GatewayServer.factory(limits, "http-" + port));
        http.embeddedServerIdentifier(server);
        AtomicReference<Exception> failure = new AtomicReference<>();
        http.initExceptionHandler(failure::set);
        http.before((req, res) -> {
            inFlight.incrementAndGet();
            RequestLog.of(req);
        });
        // Before the key: a preflight carries none, and a page from an origin not let in is refused either way.
        http.before((req, res) -> cors.check(http, req, res));
        http.before((req, res) -> apiKey.check(http, req, res));
        routes.accept(http);
        metrics.routes(http.routes().stream().map(RouteMatch::getMatchUri).toList());
        http.notFound((req, res) -> Gateway.notFound(req.requestMethod(), req.pathInfo(), res));
        http.exception(Exception.class, (e, req, res) -> {
            log.error("{} {} failed", req.requestMethod(), req.pathInfo(), e);
            res.body(OpenAiFacade.error(res, new ApiException(500, "internal error: " + e, null, "internal_error", Map.of())));
        });
        http.afterAfter((req, res) -> {
            RequestLog.finish(req, res, metrics);
            inFlight.decrementAndGet();
        });
        http.init();
        http.awaitInitialization();
        synchronized (states) {
            if (failure.get() != null) {
                Throwable cause = failure.get();
                while (cause.getCause() != null) {
                    cause = cause.getCause();
                }
                String why = String.valueOf(cause.getMessage());
                states.put(port, "not listening: " + why + (port == CompatPort.LEGACY.classic()
                        ? " (the legacy main_api runtime hard-codes port 8000: run axllm serve to get the session API here)" : ""));
                log.error("port {} cannot be had: {}", port, states.get(port));
                http.stop();
                return null;
            }
            states.put(http.port(), "listening");
            open.add(http);
        }
        return http;
    }

    /** Every port asked for, with "listening" or why not. */
    Map<Integer, String> states() {
        synchronized (states) {
            return Map.copyOf(states);
        }
    }

    @Override
    public void close() {
        for (Service http : open) {
            http.stop();
            http.awaitStop();
        }
    }
}
