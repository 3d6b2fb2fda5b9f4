package dev.axfleet.gateway;

import dev.axfleet.broker.CardHealth;
import dev.axfleet.broker.CardState;
import dev.axfleet.broker.JobResult;
import dev.axfleet.broker.WorkerState;
import dev.axfleet.gateway.bus.Bus;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/** Counters of this gateway and the workers it hears of, as Prometheus text on {@code GET /metrics}. */
public final class Metrics {
    /** Paths counted by name; anything else is "other", so random paths cannot grow the series. */
    private static final Set<String> ROUTES = Set.of("/v1/chat/completions", "/v1/models", "/health", "/metrics",
            "/api/chat", "/api/generate", "/api/tags", "/api/ps", "/api/show", "/api/version", "/", "/v1/embeddings", "/api/embed",
            "/api/embeddings");

    private final Map<String, LongAdder> requests = new ConcurrentHashMap<>();
    private final Map<String, LongAdder> jobs = new ConcurrentHashMap<>();
    private final Map<String, LongAdder> queueMs = new ConcurrentHashMap<>();
    private final Map<String, LongAdder> runMs = new ConcurrentHashMap<>();
    private final Map<String, LongAdder> timed = new ConcurrentHashMap<>();

    void request(String method, String path, int status) {
        String route = ROUTES.contains(path) ? path : "other";
        requests.computeIfAbsent(label("method", method) + "," + label("route", route) + "," + label("status", String.valueOf(status)),
                k -> new LongAdder()).increment();
    }

    void job(String model, JobResult r) {
        jobs.computeIfAbsent(label("model", model) + "," + label("outcome", r.outcome().wire()), k -> new LongAdder()).increment();
        String m = label("model", model);
        if (r.queueMs() != null) {
            queueMs.computeIfAbsent(m, k -> new LongAdder()).add(r.queueMs());
            runMs.computeIfAbsent(m, k -> new LongAdder()).add(r.runMs());
            timed.computeIfAbsent(m, k -> new LongAdder()).increment();
        }
    }

    String render(ModelRegistry registry, Bus client) {
        StringBuilder sb = new StringBuilder();
        counter(sb, "axfleet_gateway_requests_total", "HTTP requests by route and status.", requests);
        counter(sb, "axfleet_gateway_jobs_total", "Jobs this gateway submitted, by outcome.", jobs);
        header(sb, "axfleet_job_queue_seconds", "summary", "Time jobs waited before a worker ran them.");
        timed.forEach((m, n) -> {
            sb.append("axfleet_job_queue_seconds_sum{").append(m).append("} ").append(queueMs.get(m).sum() / 1000.0).append('\n');
            sb.append("axfleet_job_queue_seconds_count{").append(m).append("} ").append(n.sum()).append('\n');
        });
        header(sb, "axfleet_job_run_seconds", "summary", "Time workers took to run jobs.");
        timed.forEach((m, n) -> {
            sb.append("axfleet_job_run_seconds_sum{").append(m).append("} ").append(runMs.get(m).sum() / 1000.0).append('\n');
            sb.append("axfleet_job_run_seconds_count{").append(m).append("} ").append(n.sum()).append('\n');
        });
        header(sb, "axfleet_gateway_jobs_pending", "gauge", "Jobs of this gateway waiting or running, by model.");
        client.pendingByModel().forEach((m, n) -> sb.append("axfleet_gateway_jobs_pending{").append(label("model", m)).append("} ")
                .append(n.get()).append('\n'));
        header(sb, "axfleet_broker_connected", "gauge", "1 when the gateway is connected to the MQTT broker.");
        sb.append("axfleet_broker_connected ").append(client.connected() ? 1 : 0).append('\n');
        header(sb, "axfleet_worker_ready", "gauge", "1 when the worker is ready to run jobs.");
        Map<String, List<WorkerState>> workers = registry.workersByModel();
        workers.values().forEach(list -> list.forEach(w -> sb.append("axfleet_worker_ready{").append(workerLabels(w)).append("} ")
                .append(w.phase() == WorkerState.Phase.READY ? 1 : 0).append('\n')));
        header(sb, "axfleet_worker_jobs_done_total", "counter", "Jobs a worker answered, as it last reported.");
        workers.values().forEach(list -> list.forEach(w -> sb.append("axfleet_worker_jobs_done_total{").append(workerLabels(w))
                .append("} ").append(w.jobsDone()).append('\n')));
        header(sb, "axfleet_worker_jobs_failed_total", "counter", "Jobs a worker failed, as it last reported.");
        workers.values().forEach(list -> list.forEach(w -> sb.append("axfleet_worker_jobs_failed_total{").append(workerLabels(w))
                .append("} ").append(w.jobsFailed()).append('\n')));
        header(sb, "axfleet_worker_strikes_total", "counter", "Jobs that ran past their time limit on a worker, as it last reported.");
        workers.values().forEach(list -> list.forEach(w -> sb.append("axfleet_worker_strikes_total{").append(workerLabels(w))
                .append("} ").append(w.strikes()).append('\n')));
        header(sb, "axfleet_worker_held", "gauge", "1 while a worker holds jobs back because its card is hot, lost or resetting.");
        workers.values().forEach(list -> list.forEach(w -> sb.append("axfleet_worker_held{").append(workerLabels(w))
                .append("} ").append(w.held() == null ? 0 : 1).append('\n')));
        cards(sb, registry);
        return sb.toString();
    }

    private static void cards(StringBuilder sb, ModelRegistry registry) {
        Map<String, CardHealth> cards = new TreeMap<>();
        registry.cards().values().forEach(h -> cards.put(label("host", h.card().host()) + "," + label("card", String.valueOf(h.card().index()))
                + "," + label("emulated", String.valueOf(h.emulated())), h));
        header(sb, "axfleet_card_state", "gauge", "1 for the state the monitor last reported for the card.");
        cards.forEach((l, h) -> {
            for (CardState s : CardState.values()) {
                sb.append("axfleet_card_state{").append(l).append(',').append(label("state", s.wire())).append("} ")
                        .append(h.state() == s ? 1 : 0).append('\n');
            }
        });
        gauge(sb, cards, "axfleet_card_temperature_celsius", "Junction temperature.", h -> h.readings().temperatureC());
        gauge(sb, cards, "axfleet_card_cmm_used_bytes", "CMM (NPU memory) in use.", h -> mib(h.readings().cmmUsedMiB()));
        gauge(sb, cards, "axfleet_card_cmm_total_bytes", "CMM (NPU memory) in all.", h -> mib(h.readings().cmmTotalMiB()));
        gauge(sb, cards, "axfleet_card_memory_used_bytes", "Card system memory in use.", h -> mib(h.readings().memoryUsedMiB()));
        gauge(sb, cards, "axfleet_card_memory_total_bytes", "Card system memory in all.", h -> mib(h.readings().memoryTotalMiB()));
        gauge(sb, cards, "axfleet_card_cpu_ratio", "Card CPU load (0..1).", h -> ratio(h.readings().cpuPercent()));
        gauge(sb, cards, "axfleet_card_npu_ratio", "NPU load (0..1).", h -> ratio(h.readings().npuPercent()));
        gauge(sb, cards, "axfleet_card_needs_person", "1 when the recovery ladder ran out of steps.", h -> h.needsPerson() == null ? 0 : 1);
    }

    private static Double ratio(Integer percent) {
        return percent == null ? null : percent / 100.0;
    }

    private static Long mib(Long value) {
        return value == null ? null : value * 1024 * 1024;
    }

    /** One gauge per card; cards whose value is unknown are left out rather than reported as 0. */
    private static void gauge(StringBuilder sb, Map<String, CardHealth> cards, String name, String help,
                              java.util.function.Function<CardHealth, Number> value) {
        header(sb, name, "gauge", help);
        cards.forEach((l, h) -> {
            Number v = value.apply(h);
            if (v != null) {
                sb.append(name).append('{').append(l).append("} ").append(v).append('\n');
            }
        });
    }

    private static String workerLabels(WorkerState w) {
        return label("model", w.model()) + "," + label("worker", w.worker()) + "," + label("phase", w.phase().wire())
                + "," + label("emulated", String.valueOf(w.emulated()));
    }

    private static void counter(StringBuilder sb, String name, String help, Map<String, LongAdder> series) {
        header(sb, name, "counter", help);
        new TreeMap<>(series).forEach((labels, n) -> sb.append(name).append('{').append(labels).append("} ").append(n.sum()).append('\n'));
    }

    private static void header(StringBuilder sb, String name, String type, String help) {
        sb.append("# HELP ").append(name).append(' ').append(help).append('\n');
        sb.append("# TYPE ").append(name).append(' ').append(type).append('\n');
    }

    private static String label(String name, String value) {
        return name + "=\"" + value.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n") + "\"";
    }
}
