package dev.axfleet.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import dev.axfleet.broker.ErrorCode;
import dev.axfleet.broker.JobResult;
import dev.axfleet.broker.Outcome;
import dev.axfleet.broker.Priority;
import dev.axfleet.broker.Reply;
import dev.axfleet.broker.Topics;
import dev.axfleet.broker.WireCodec;
import dev.axfleet.broker.testing.TestBroker;
import dev.axfleet.broker.testing.TestMqttClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Jobs that matter more and jobs that would come too late, on one worker, on both brokers, sent as a device sends them
 * (its priority is the topic it publishes on): a high job sent behind twenty low ones starts next, every priority keeps
 * its order, and a job that cannot finish before its deadline is answered "would not finish in time" before it runs.
 */
class PriorityTest {
    static final String MODEL = "qwen3-1.7b";
    /** 20 tokens: every emulated answer is at least 24, so each job takes the same time. */
    static final String PARAMS = "{\"prompt\":\"a long answer please\",\"max_tokens\":20}";

    static Stream<Function<Path, TestBroker>> brokers() {
        return Stream.of(TestBroker::embedded, TestBroker::mosquitto);
    }

    @ParameterizedTest
    @MethodSource("brokers")
    void aHighJobSentBehindTwentyLowOnesStartsNextAndEachPriorityKeepsItsOrder(Function<Path, TestBroker> kind, @TempDir Path dir) throws Exception {
        try (TestBroker broker = kind.apply(dir.resolve("broker")); TestMqttClient device = TestMqttClient.connect(broker.address(), "lamp")) {
            Worker worker = start(broker, dir, "0.05");
            try {
                BlockingQueue<Mqtt5Publish> results = device.subscribe(Topics.replies("lamp"));
                BlockingQueue<Mqtt5Publish> running = device.subscribe(Topics.status(MODEL, "low-01"));
                List<String> lows = IntStream.rangeClosed(1, 20).mapToObj(i -> String.format("low-%02d", i)).toList();
                lows.forEach(id -> send(device, "lamp", Priority.LOW, id, null));
                assertTrue(running.poll(30, TimeUnit.SECONDS) != null, "the first low job started");
                send(device, "lamp", Priority.NORMAL, "normal-1", null);
                send(device, "lamp", Priority.NORMAL, "normal-2", null);
                send(device, "lamp", Priority.HIGH, "high-1", null);

                List<String> order = new ArrayList<>();
                while (order.size() < 23) {
                    JobResult r = next(results, Duration.ofSeconds(60));
                    assertEquals(Outcome.DONE, r.outcome(), () -> r.id() + ": " + r.error());
                    order.add(r.id());
                }
                List<String> expected = new ArrayList<>(List.of("low-01", "high-1", "normal-1", "normal-2"));
                expected.addAll(lows.subList(1, 20));
                assertEquals(expected, order, "on " + broker + ": the high job next, then the normal ones, then the lows, each in arrival order");
            } finally {
                worker.close();
            }
        }
    }

    @ParameterizedTest
    @MethodSource("brokers")
    void aJobThatCannotFinishBeforeItsDeadlineIsAnsweredBeforeItRuns(Function<Path, TestBroker> kind, @TempDir Path dir) throws Exception {
        try (TestBroker broker = kind.apply(dir.resolve("broker")); TestMqttClient device = TestMqttClient.connect(broker.address(), "kiosk")) {
            // Pace is under test here: each job takes about 0.7 s.
            Worker worker = start(broker, dir, "0.2");
            try {
                BlockingQueue<Mqtt5Publish> results = device.subscribe(Topics.replies("kiosk"));
                for (int i = 1; i <= 3; i++) {
                    send(device, "kiosk", Priority.NORMAL, "pace-" + i, null);
                    assertEquals(Outcome.DONE, next(results, Duration.ofSeconds(30)).outcome());
                }
                BlockingQueue<Mqtt5Publish> running = device.subscribe(Topics.status(MODEL, "long-1"));
                BlockingQueue<Mqtt5Publish> lateStatus = device.subscribe(Topics.status(MODEL, "late-1"));
                send(device, "kiosk", Priority.NORMAL, "long-1", null);
                assertTrue(running.poll(30, TimeUnit.SECONDS) != null, "the long job started");
                long sent = System.currentTimeMillis();
                // It would wait for most of long-1 and then take about as long itself: far past a deadline 0.5 s away.
                send(device, "kiosk", Priority.NORMAL, "late-1", sent + 500);
                send(device, "kiosk", Priority.NORMAL, "in-time-1", sent + 30_000);

                JobResult late = next(results, Duration.ofSeconds(30));
                assertEquals("late-1", late.id(), "answered before the job running ahead of it ended");
                assertEquals(Outcome.ERROR, late.outcome());
                assertEquals(ErrorCode.WOULD_NOT_FINISH, late.error().code(), late.error().message());
                assertEquals(0, late.runMs(), "it never ran");
                assertTrue(System.currentTimeMillis() < sent + 500, "answered before its deadline, when its caller still waits");
                assertEquals("long-1", next(results, Duration.ofSeconds(30)).id());
                JobResult inTime = next(results, Duration.ofSeconds(30));
                assertEquals("in-time-1", inTime.id());
                assertEquals(Outcome.DONE, inTime.outcome());
                Mqtt5Publish status;
                while ((status = lateStatus.poll(200, TimeUnit.MILLISECONDS)) != null) {
                    JsonObject o = JsonParser.parseString(new String(status.getPayloadAsBytes(), StandardCharsets.UTF_8)).getAsJsonObject();
                    assertTrue(!o.get("state").getAsString().equals("running"), "the late job never ran: " + o);
                }
                assertNull(results.poll(500, TimeUnit.MILLISECONDS), "one answer each");
            } finally {
                worker.close();
            }
        }
    }

    /**
     * A handoff marked as a possible repeat (its intake stopped while the handoff went out, or the broker's
     * acknowledgement came late) runs only when nobody answered the job: answered, it is acknowledged and not answered
     * again; never answered, it runs. Unmarked, the same bytes are a job sent again and get their answer again.
     */
    @org.junit.jupiter.api.Test
    void aHandoffThatMayRepeatOneRunsOnlyWhenNobodyAnsweredTheJob(@TempDir Path dir) throws Exception {
        try (TestBroker broker = TestBroker.embedded(dir.resolve("broker")); TestMqttClient device = TestMqttClient.connect(broker.address(), "lamp")) {
            WorkerConfig config = EmulatedWorkers.axllm(broker.address(), MODEL, dir.resolve("worker"), Map.of("AXFLEET_EMULATOR_TIME_SCALE", "0.05"));
            Worker worker = new Worker(config, config.runtime().create());
            worker.start();
            try {
                EmulatedWorkers.awaitReady(device, config);
                BlockingQueue<Mqtt5Publish> results = device.subscribe(Topics.replies("lamp"));
                send(device, "lamp", Priority.NORMAL, "once-1", null);
                assertEquals(Outcome.DONE, next(results, Duration.ofSeconds(30)).outcome());

                device.publish(handoff(config.workerId(), "once-1", true));
                assertNull(results.poll(1500, TimeUnit.MILLISECONDS), "answered already: acknowledged, not answered again");
                device.publish(handoff(config.workerId(), "never-1", true));
                JobResult ran = next(results, Duration.ofSeconds(30));
                assertEquals("never-1", ran.id(), "nobody answered it: it runs");
                assertEquals(Outcome.DONE, ran.outcome());
                assertTrue(ran.runMs() > 0, "it ran");
                device.publish(handoff(config.workerId(), "once-1", false));
                assertEquals("once-1", next(results, Duration.ofSeconds(30)).id(), "not marked: the same bytes again get their answer again");
                assertNull(results.poll(500, TimeUnit.MILLISECONDS), "one answer each");
            } finally {
                worker.close();
            }
        }
    }

    /** A job as an intake hands it to {@code worker}: the job's bytes, its job topic and sender, and maybe the repeat mark. */
    static Mqtt5Publish handoff(String worker, String id, boolean repeat) {
        String job = "{\"id\":\"" + id + "\",\"reply_to\":\"" + Topics.reply("lamp", id) + "\",\"params\":" + PARAMS + "}";
        var props = com.hivemq.client.mqtt.mqtt5.datatypes.Mqtt5UserProperties.builder()
                .add(dev.axfleet.worker.priority.Handoff.JOB_TOPIC, Topics.jobs(MODEL, Priority.NORMAL))
                .add(dev.axfleet.worker.priority.Handoff.FROM, worker);
        if (repeat) {
            props.add(dev.axfleet.worker.priority.Handoff.REPEAT, "1");
        }
        return Mqtt5Publish.builder().topic(Topics.handoff(MODEL, worker)).qos(com.hivemq.client.mqtt.datatypes.MqttQos.AT_LEAST_ONCE)
                .payload(job.getBytes(StandardCharsets.UTF_8)).userProperties(props.build()).build();
    }

    static Worker start(TestBroker broker, Path dir, String timeScale) throws InterruptedException {
        WorkerConfig config = EmulatedWorkers.axllm(broker.address(), MODEL, dir.resolve("worker"), Map.of("AXFLEET_EMULATOR_TIME_SCALE", timeScale));
        Worker worker = new Worker(config, config.runtime().create());
        worker.start();
        try (TestMqttClient watcher = TestMqttClient.connect(broker.address(), "watcher")) {
            EmulatedWorkers.awaitReady(watcher, config);
        }
        return worker;
    }

    /** Publishes a job on its priority's topic; its answer goes to {@code axfleet/v1/reply/{client}/{id}}. */
    static void send(TestMqttClient device, String client, Priority priority, String id, Long expiresAt) {
        device.publish(Topics.jobs(MODEL, priority), "{\"id\":\"" + id + "\",\"reply_to\":\"" + Topics.reply(client, id) + "\""
                + (expiresAt == null ? "" : ",\"expires_at\":" + expiresAt) + ",\"params\":" + PARAMS + "}");
    }

    static JobResult next(BlockingQueue<Mqtt5Publish> results, Duration wait) throws InterruptedException {
        long deadline = System.nanoTime() + wait.toNanos();
        while (System.nanoTime() < deadline) {
            Mqtt5Publish p = results.poll(100, TimeUnit.MILLISECONDS);
            if (p != null && WireCodec.decodeReply(p.getPayloadAsBytes()) instanceof JobResult r) {
                return r;
            }
        }
        throw new AssertionError("no result within " + wait);
    }
}
