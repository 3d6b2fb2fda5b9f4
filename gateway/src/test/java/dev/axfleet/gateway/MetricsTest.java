package dev.axfleet.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import dev.axfleet.broker.chat.ChatOutput;
import dev.axfleet.broker.chat.FinishReason;
import dev.axfleet.broker.Job;
import dev.axfleet.broker.JobResult;
import dev.axfleet.broker.JobState;
import dev.axfleet.broker.JobStatus;
import dev.axfleet.broker.Topics;
import dev.axfleet.broker.Usage;
import dev.axfleet.broker.WireCodec;
import dev.axfleet.broker.WorkerState;
import dev.axfleet.broker.testing.PrometheusText;
import dev.axfleet.broker.testing.TestBroker;
import dev.axfleet.broker.testing.TestMqttClient;
import dev.axfleet.config.BuildInfo;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code /metrics} as Prometheus reads it: parsed by Prometheus' own text parser, with every route counted under its
 * own name, latency histograms, worker counters that keep their series through a phase flip, and the jobs and
 * tokens of MQTT devices that never went through a gateway. The worker is a plain MQTT client answering as one does.
 */
class MetricsTest {
    static final String MODEL = "qwen3-1.7b";
    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @TempDir
    static Path dir;
    static TestBroker broker;
    static Gateway gateway;
    static TestMqttClient worker;

    @BeforeAll
    static void start() {
        broker = TestBroker.embedded(dir);
        gateway = TestGateways.start(broker, Map.of("gateway.models", MODEL, "gateway.request_timeout", "20s"));
        worker = TestMqttClient.connect(broker.address(), "fake-worker");
    }

    @AfterAll
    static void stop() {
        worker.close();
        gateway.close();
        broker.close();
    }

    static HttpResponse<String> send(String method, String path, String body) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.port() + path))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
                .header("Content-Type", "application/json").timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
    }

    static PrometheusText scrape() throws Exception {
        HttpResponse<String> r = send("GET", "/metrics", null);
        assertEquals(200, r.statusCode());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/plain; version=0.0.4"), r.headers().toString());
        return PrometheusText.parse(r.body());
    }

    static PrometheusText scrapeUntil(java.util.function.Predicate<PrometheusText> ready) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            PrometheusText m = scrape();
            if (ready.test(m) || System.nanoTime() > deadline) {
                return m;
            }
            Thread.sleep(100);
        }
    }

    static WorkerState state(WorkerState.Phase phase, long done) {
        return new WorkerState("w1", MODEL, phase, "axllm-serve", true, 4096, done, 1, 0, null, Instant.now(), null, null, List.of(), 0,
                java.util.Set.of(dev.axfleet.broker.Task.CHAT), null, null, null);
    }

    /** Answers the next job on the model's topic as a worker does: status, then the result with its token counts. */
    static Job answerNext(BlockingQueue<Mqtt5Publish> jobs, int prompt, int completion) throws Exception {
        Mqtt5Publish p = jobs.poll(10, TimeUnit.SECONDS);
        assertNotNull(p, "a job arrived");
        Job job = TestMqttClient.job(p);
        worker.publish(Topics.status(MODEL, job.id()), new String(WireCodec.encodeStatus(
                new JobStatus(job.id(), MODEL, JobState.RUNNING, "w1", Instant.now())), StandardCharsets.UTF_8));
        JobResult r = JobResult.done(job, new ChatOutput("fine", FinishReason.STOP, new Usage(prompt, completion, false), 20L, 0, null), 40L, 250, "w1");
        worker.publish(job.replyTo(), new String(WireCodec.encodeResult(r), StandardCharsets.UTF_8));
        worker.publish(Topics.status(MODEL, job.id()), new String(WireCodec.encodeStatus(
                new JobStatus(job.id(), MODEL, JobState.DONE, "w1", Instant.now())), StandardCharsets.UTF_8));
        return job;
    }

    @Test
    void prometheusParsesItAndItCarriesTheBuildTheJvmAndTheProcess() throws Exception {
        send("GET", "/health", null);
        PrometheusText m = scrapeUntil(x -> x.familyOf("axfleet_gateway_requests_total") != null);
        BuildInfo build = BuildInfo.current();
        assertEquals(1.0, m.sum("axfleet_build_info", Map.of("version", build.version(), "commit", build.commit())), m.families().keySet()
                .toString());
        assertTrue(m.families().containsKey("jvm_memory_used_bytes"), m.families().keySet().toString());
        assertTrue(m.families().containsKey("process_cpu_seconds"), m.families().keySet().toString());
        assertEquals("counter", m.familyOf("axfleet_gateway_requests_total").type());
        assertEquals(1.0, m.sum("axfleet_broker_connected", Map.of()));
    }

    @Test
    void everyRouteIsCountedUnderItsOwnNameAndUnknownPathsAsOther() throws Exception {
        send("POST", "/sdapi/v1/txt2img", "{");
        send("POST", "/generate", "{");
        send("POST", "/v1/images/generations", "{");
        send("POST", "/admin/cards/test-pi/0/reset", "{}");
        send("GET", "/no/such/route/" + System.nanoTime(), null);
        PrometheusText m = scrapeUntil(x -> x.sum("axfleet_gateway_requests_total", Map.of("route", "other")) > 0);
        for (String route : List.of("/sdapi/v1/txt2img", "/generate", "/v1/images/generations", "/admin/cards/:host/:card/reset")) {
            assertTrue(m.sum("axfleet_gateway_requests_total", Map.of("method", "POST", "route", route)) >= 1,
                    route + " counted under its name: " + m.samples("axfleet_gateway_requests_total", Map.of()));
        }
        assertTrue(m.sum("axfleet_gateway_requests_total", Map.of("route", "other")) >= 1);
        assertTrue(m.samples("axfleet_gateway_requests_total", Map.of()).stream().noneMatch(s -> s.labels().get("route").startsWith("/no/")),
                "random paths do not grow the series");
        // Latency as a histogram: p95 is a query away.
        assertFalse(m.samples("axfleet_gateway_request_seconds_bucket", Map.of("route", "/generate", "le", "+Inf")).isEmpty());
        assertEquals("histogram", m.familyOf("axfleet_gateway_request_seconds_bucket").type());
    }

    @Test
    void workerCountersKeepTheirSeriesThroughAPhaseFlip() throws Exception {
        worker.publish(Topics.workerState(MODEL, "w1"), new String(WireCodec.encodeWorkerState(state(WorkerState.Phase.READY, 5)),
                StandardCharsets.UTF_8));
        // Each family's callback reads the registry when the scrape reaches it: wait until one scrape shows the whole new state.
        PrometheusText ready = scrapeUntil(x -> x.sum("axfleet_worker_jobs_done_total", Map.of("worker", "w1")) == 5
                && x.sum("axfleet_worker_phase", Map.of("worker", "w1", "phase", "ready")) == 1.0);
        worker.publish(Topics.workerState(MODEL, "w1"), new String(WireCodec.encodeWorkerState(state(WorkerState.Phase.RESTARTING, 7)),
                StandardCharsets.UTF_8));
        PrometheusText restarting = scrapeUntil(x -> x.sum("axfleet_worker_jobs_done_total", Map.of("worker", "w1")) == 7
                && x.sum("axfleet_worker_phase", Map.of("worker", "w1", "phase", "restarting")) == 1.0);
        for (PrometheusText m : List.of(ready, restarting)) {
            List<PrometheusText.Sample> done = m.samples("axfleet_worker_jobs_done_total", Map.of("worker", "w1"));
            assertEquals(1, done.size(), done.toString());
            assertEquals(Map.of("model", MODEL, "worker", "w1", "emulated", "true"), done.get(0).labels(), "no phase label on a counter");
        }
        assertEquals(1.0, ready.sum("axfleet_worker_phase", Map.of("worker", "w1", "phase", "ready")));
        assertEquals(1.0, restarting.sum("axfleet_worker_phase", Map.of("worker", "w1", "phase", "restarting")));
        assertEquals(0.0, restarting.sum("axfleet_worker_phase", Map.of("worker", "w1", "phase", "ready")));
        assertEquals(0.0, restarting.sum("axfleet_worker_ready", Map.of("worker", "w1")));
    }

    @Test
    void jobsAndTokensAreCountedWhoeverSentThem() throws Exception {
        BlockingQueue<Mqtt5Publish> jobs = worker.subscribe(Topics.jobs(MODEL));
        jobs.clear();
        PrometheusText before = scrape();
        // Through the gateway.
        java.util.concurrent.CompletableFuture<HttpResponse<String>> http = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                return send("POST", "/v1/chat/completions", "{\"model\":\"" + MODEL + "\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        answerNext(jobs, 10, 3);
        assertEquals(200, http.get(30, TimeUnit.SECONDS).statusCode());
        // Straight from an MQTT device: the gateway never sees the request.
        try (TestMqttClient device = TestMqttClient.connect(broker.address(), "esp32-button")) {
            String reply = Topics.reply("esp32-button", "dev-1");
            BlockingQueue<Mqtt5Publish> answer = device.subscribe(reply);
            device.publish(Topics.jobs(MODEL), "{\"id\":\"dev-1\",\"reply_to\":\"" + reply + "\",\"params\":{\"prompt\":\"hi\",\"max_tokens\":4}}");
            answerNext(jobs, 20, 4);
            assertNotNull(answer.poll(10, TimeUnit.SECONDS), "the device got its answer");
        }
        Map<String, String> done = Map.of("model", MODEL, "outcome", "done");
        PrometheusText after = scrapeUntil(x -> x.sum("axfleet_jobs_total", done) - before.sum("axfleet_jobs_total", done) >= 2
                && x.sum("axfleet_tokens_total", Map.of("kind", "completion")) - before.sum("axfleet_tokens_total", Map.of("kind", "completion")) >= 7);
        assertEquals(2.0, after.sum("axfleet_jobs_total", done) - before.sum("axfleet_jobs_total", done), "both jobs, the device's too");
        assertEquals(1.0, after.sum("axfleet_gateway_jobs_total", done) - before.sum("axfleet_gateway_jobs_total", done),
                "the gateway submitted one of them");
        assertEquals(30.0, after.sum("axfleet_tokens_total", Map.of("model", MODEL, "kind", "prompt"))
                - before.sum("axfleet_tokens_total", Map.of("model", MODEL, "kind", "prompt")));
        assertEquals(7.0, after.sum("axfleet_tokens_total", Map.of("model", MODEL, "kind", "completion"))
                - before.sum("axfleet_tokens_total", Map.of("model", MODEL, "kind", "completion")));
        assertEquals(2.0, after.sum("axfleet_job_run_seconds_count", Map.of("model", MODEL))
                - before.sum("axfleet_job_run_seconds_count", Map.of("model", MODEL)));
        assertEquals(2.0, after.sum("axfleet_job_queue_seconds_bucket", Map.of("model", MODEL, "le", "0.05"))
                - before.sum("axfleet_job_queue_seconds_bucket", Map.of("model", MODEL, "le", "0.05")), "40 ms in the 0.05 s bucket");
    }
}
