package dev.axfleet.gateway;

import dev.axfleet.broker.CardHealth;
import dev.axfleet.broker.CardState;
import dev.axfleet.broker.JobResult;
import dev.axfleet.broker.JobState;
import dev.axfleet.broker.JobStatus;
import dev.axfleet.broker.Usage;
import dev.axfleet.broker.WorkerState;
import dev.axfleet.config.BuildInfo;
import dev.axfleet.gateway.bus.Bus;
import io.prometheus.metrics.config.EscapingScheme;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.core.metrics.Info;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.ToDoubleFunction;
import java.util.regex.Pattern;

/**
 * The gateway's Prometheus metrics on {@code GET /metrics}, kept by Prometheus' own Java client: its HTTP requests
 * and the jobs it submitted; every job the workers finish, whoever sent it (HTTP clients or MQTT devices, seen on the
 * bus by {@link BusWatch}), with token counts and queue and run times; the workers' and cards' last reported state;
 * the build; the JVM and the process.
 */
public final class Metrics {
    static final String CONTENT_TYPE = PrometheusTextFormatWriter.CONTENT_TYPE;
    /** Seconds, from a fast HTTP answer to a long image job. */
    private static final double[] SECONDS = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600};

    private final PrometheusRegistry prometheus = new PrometheusRegistry();
    private final PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.create();
    /** Route patterns the listeners serve; a path matching none is "other", so random paths cannot grow the series. */
    private final Set<String> literal = ConcurrentHashMap.newKeySet();
    private final List<Route> patterns = new java.util.concurrent.CopyOnWriteArrayList<>();

    private final Counter requests = Counter.builder().name("axfleet_gateway_requests_total")
            .help("HTTP requests by method, route and status.").labelNames("method", "route", "status").register(prometheus);
    private final Histogram requestSeconds = Histogram.builder().name("axfleet_gateway_request_seconds")
            .help("Time from an HTTP request's arrival to its answer, by route.").labelNames("route")
            .classicOnly().classicUpperBounds(SECONDS).register(prometheus);
    private final Counter gatewayJobs = Counter.builder().name("axfleet_gateway_jobs_total")
            .help("Jobs this gateway submitted, by outcome.").labelNames("model", "outcome").register(prometheus);
    private final Counter jobs = Counter.builder().name("axfleet_jobs_total")
            .help("Jobs the workers finished, whoever sent them (HTTP clients or MQTT devices), by outcome.")
            .labelNames("model", "outcome").register(prometheus);
    private final Counter tokens = Counter.builder().name("axfleet_tokens_total")
            .help("Tokens of finished chat jobs, prompt and completion, whoever sent them.").labelNames("model", "kind").register(prometheus);
    private final Histogram queueSeconds = Histogram.builder().name("axfleet_job_queue_seconds")
            .help("Time jobs waited before a worker ran them.").labelNames("model")
            .classicOnly().classicUpperBounds(SECONDS).register(prometheus);
    private final Histogram runSeconds = Histogram.builder().name("axfleet_job_run_seconds")
            .help("Time workers took to run jobs.").labelNames("model")
            .classicOnly().classicUpperBounds(SECONDS).register(prometheus);

    Metrics(ModelRegistry registry, Bus client) {
        BuildInfo build = BuildInfo.current();
        Info.builder().name("axfleet_build_info").help("The version and commit this gateway was built from.")
                .labelNames("version", "commit").register(prometheus).setLabelValues(build.version(), build.commit());
        JvmMetrics.builder().register(prometheus);
        GaugeWithCallback.builder().name("axfleet_gateway_jobs_pending").help("Jobs of this gateway waiting or running, by model.")
                .labelNames("model").callback(cb -> client.pendingByModel().forEach((m, n) -> cb.call(n.get(), m))).register(prometheus);
        GaugeWithCallback.builder().name("axfleet_broker_connected").help("1 when the gateway is connected to the MQTT broker.")
                .callback(cb -> cb.call(client.connected() ? 1 : 0)).register(prometheus);
        workers(registry);
        cards(registry);
    }

    /** Routes a listener serves, as its routes were registered ({@code /admin/cards/:host/:card/reset}). */
    void routes(Collection<String> paths) {
        for (String path : paths) {
            if (path.contains(":") || path.contains("*")) {
                if (patterns.stream().noneMatch(r -> r.path.equals(path))) {
                    patterns.add(new Route(path, compile(path)));
                }
            } else {
                literal.add(path);
            }
        }
    }

    private record Route(String path, Pattern pattern) {
    }

    /** Spark's path syntax: {@code :name} is one segment, {@code *} anything. */
    private static Pattern compile(String path) {
        List<String> parts = new java.util.ArrayList<>();
        for (String segment : path.split("/", -1)) {
            parts.add(segment.startsWith(":") ? "[^/]+" : segment.equals("*") ? ".*" : Pattern.quote(segment));
        }
        return Pattern.compile(String.join("/", parts));
    }

    String route(String path) {
        if (path == null) {
            return "other";
        }
        if (literal.contains(path)) {
            return path;
        }
        for (Route r : patterns) {
            if (r.pattern.matcher(path).matches()) {
                return r.path;
            }
        }
        return "other";
    }

    void request(String method, String path, int status, long nanos) {
        String route = route(path);
        requests.labelValues(method, route, String.valueOf(status)).inc();
        requestSeconds.labelValues(route).observe(nanos / 1e9);
    }

    /** A job this gateway submitted has ended (answered, failed, timed out, cancelled). */
    void job(String model, JobResult r) {
        gatewayJobs.labelValues(model, r.outcome().wire()).inc();
    }

    /** A job's status, as a worker published it for anyone watching: the final ones count the job. */
    void status(JobStatus s) {
        if (s.state() != JobState.RUNNING && s.state() != JobState.STREAMING) {
            jobs.labelValues(s.model(), s.state().wire()).inc();
        }
    }

    /** A job's result, on its reply topic: token counts and times. */
    void result(JobResult r) {
        Usage u = r.output() == null ? null : r.output().usage();
        if (u != null) {
            tokens.labelValues(r.model(), "prompt").inc(u.promptTokens());
            tokens.labelValues(r.model(), "completion").inc(u.completionTokens());
        }
        if (r.queueMs() != null) {
            queueSeconds.labelValues(r.model()).observe(r.queueMs() / 1000.0);
        }
        runSeconds.labelValues(r.model()).observe(r.runMs() / 1000.0);
    }

    /** Everything, in Prometheus' text format (version 0.0.4). */
    String render() {
        ByteArrayOutputStream out = new ByteArrayOutputStream(16 * 1024);
        try {
            writer.write(out, prometheus.scrape(), EscapingScheme.DEFAULT);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    /**
     * The workers' last reported state. Counters are the workers' own (they count every job they answer, whoever
     * sent it); a worker's phase is a series of its own, so a ready-restarting flip starts no new counter series.
     */
    private void workers(ModelRegistry registry) {
        workerGauge(registry, "axfleet_worker_ready", "1 when the worker is ready to run jobs.", w -> w.phase() == WorkerState.Phase.READY ? 1 : 0);
        workerGauge(registry, "axfleet_worker_held", "1 while a worker holds jobs back because its card is hot, lost or resetting.",
                w -> w.held() == null ? 0 : 1);
        GaugeWithCallback.builder().name("axfleet_worker_phase").help("1 for the phase the worker last reported.")
                .labelNames("model", "worker", "phase").callback(cb -> each(registry, w -> {
                    for (WorkerState.Phase p : WorkerState.Phase.values()) {
                        cb.call(w.phase() == p ? 1 : 0, w.model(), w.worker(), p.wire());
                    }
                })).register(prometheus);
        workerCounter(registry, "axfleet_worker_jobs_done_total", "Jobs a worker answered, as it last reported.", WorkerState::jobsDone);
        workerCounter(registry, "axfleet_worker_jobs_failed_total", "Jobs a worker failed, as it last reported.", WorkerState::jobsFailed);
        workerCounter(registry, "axfleet_worker_strikes_total", "Jobs that ran past their time limit on a worker, as it last reported.",
                WorkerState::strikes);
    }

    private void workerGauge(ModelRegistry registry, String name, String help, ToDoubleFunction<WorkerState> value) {
        GaugeWithCallback.builder().name(name).help(help).labelNames("model", "worker", "emulated")
                .callback(cb -> each(registry, w -> cb.call(value.applyAsDouble(w), w.model(), w.worker(), String.valueOf(w.emulated()))))
                .register(prometheus);
    }

    private void workerCounter(ModelRegistry registry, String name, String help, ToDoubleFunction<WorkerState> value) {
        CounterWithCallback.builder().name(name).help(help).labelNames("model", "worker", "emulated")
                .callback(cb -> each(registry, w -> cb.call(value.applyAsDouble(w), w.model(), w.worker(), String.valueOf(w.emulated()))))
                .register(prometheus);
    }

    private static void each(ModelRegistry registry, java.util.function.Consumer<WorkerState> action) {
        registry.workersByModel().values().forEach(list -> list.forEach(action));
    }

    /** The monitors' last word on each card; values a card did not report are left out rather than reported as 0. */
    private void cards(ModelRegistry registry) {
        GaugeWithCallback.builder().name("axfleet_card_state").help("1 for the state the monitor last reported for the card.")
                .labelNames("host", "card", "emulated", "state").callback(cb -> registry.cards().values().forEach(h -> {
                    for (CardState s : CardState.values()) {
                        cb.call(h.state() == s ? 1 : 0, h.card().host(), String.valueOf(h.card().index()), String.valueOf(h.emulated()), s.wire());
                    }
                })).register(prometheus);
        cardGauge(registry, "axfleet_card_temperature_celsius", "Junction temperature.", h -> h.readings().temperatureC());
        cardGauge(registry, "axfleet_card_cmm_used_bytes", "CMM (NPU memory) in use.", h -> mib(h.readings().cmmUsedMiB()));
        cardGauge(registry, "axfleet_card_cmm_total_bytes", "CMM (NPU memory) in all.", h -> mib(h.readings().cmmTotalMiB()));
        cardGauge(registry, "axfleet_card_memory_used_bytes", "Card system memory in use.", h -> mib(h.readings().memoryUsedMiB()));
        cardGauge(registry, "axfleet_card_memory_total_bytes", "Card system memory in all.", h -> mib(h.readings().memoryTotalMiB()));
        cardGauge(registry, "axfleet_card_cpu_ratio", "Card CPU load (0..1).", h -> ratio(h.readings().cpuPercent()));
        cardGauge(registry, "axfleet_card_npu_ratio", "NPU load (0..1).", h -> ratio(h.readings().npuPercent()));
        cardGauge(registry, "axfleet_card_needs_person", "1 when the recovery ladder ran out of steps.", h -> h.needsPerson() == null ? 0 : 1);
    }

    private void cardGauge(ModelRegistry registry, String name, String help, Function<CardHealth, Number> value) {
        GaugeWithCallback.builder().name(name).help(help).labelNames("host", "card", "emulated")
                .callback(cb -> registry.cards().values().forEach(h -> {
                    Number v = value.apply(h);
                    if (v != null) {
                        cb.call(v.doubleValue(), h.card().host(), String.valueOf(h.card().index()), String.valueOf(h.emulated()));
                    }
                })).register(prometheus);
    }

    private static Double ratio(Integer percent) {
        return percent == null ? null : percent / 100.0;
    }

    private static Long mib(Long value) {
        return value == null ? null : value * 1024 * 1024;
    }
}
