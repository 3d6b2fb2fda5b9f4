package dev.axfleet.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import dev.axfleet.broker.BrokerAddress;
import dev.axfleet.broker.JobResult;
import dev.axfleet.broker.JobState;
import dev.axfleet.broker.JobStatus;
import dev.axfleet.broker.Outcome;
import dev.axfleet.broker.Topics;
import dev.axfleet.broker.WireCodec;
import dev.axfleet.broker.WorkerState;
import dev.axfleet.broker.testing.TestMqttClient;
import dev.axfleet.broker.testing.TestTools;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * A fleet of Pis on one Mosquitto, on one machine: the broker host and two Pis are network namespaces of their own,
 * each Pi a process of its own ({@link FleetHost}) joined to the broker host by its own cable (a veth pair) and reaching
 * the broker only by its address. pi1 is fast and has both models on its card; pi2 is slow (the same answer takes it
 * ~17 times longer) and has only {@value #CHAT}: {@value #SOLO}'s worker there starts with the model off its card.
 *
 * <p>What it shows (docs/scale-out.md): a job never waits behind the slow Pi while the fast one idles; only Pis with a
 * model loaded take its jobs; a Pi pulled off the network mid-job loses nothing, and every job is answered once.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FleetNetnsTest {
    static final String CHAT = "fleet-chat";
    static final String SOLO = "fleet-solo";
    static final String FAST = "pi1";
    static final String SLOW = "pi2";
    /** 20 tokens of Qwen3-0.6B: about 2.1 s on the card; pi1 runs at 0.03 of that, pi2 at 0.5. */
    static final String PARAMS = "{\"prompt\":\"a long answer please\",\"max_tokens\":20}";

    Path dir;
    Netns net;
    final List<Process> processes = new ArrayList<>();
    TestMqttClient device;
    BlockingQueue<Mqtt5Publish> replies;
    /** Every job's "running" status, by job id: which worker started it. */
    final Map<String, String> startedOn = new ConcurrentHashMap<>();

    @BeforeAll
    void start(@TempDir Path dir) throws Exception {
        this.dir = dir;
        TestTools.require("ip (iproute2)", "apt-get install iproute2", Netns.installed());
        TestTools.permits("making network namespaces (ip netns add)", "run the tests as root, or with passwordless sudo", Netns.permitted());
        Path mosquitto = Path.of("/usr/sbin/mosquitto");
        TestTools.require("mosquitto", "apt-get install mosquitto", Files.isExecutable(mosquitto));
        net = Netns.create();
        String fromPi1 = net.addPi(1);
        String fromPi2 = net.addPi(2);
        Path conf = dir.resolve("mosquitto.conf");
        Files.writeString(conf, String.join("\n", "listener 1883", "allow_anonymous true", "user " + System.getProperty("user.name"),
                "persistence false", "max_queued_messages 100000", "set_tcp_nodelay true", "log_dest stderr", "log_type error", "log_type warning", ""));
        processes.add(start(net.exec(net.broker(), List.of(mosquitto.toString(), "-c", conf.toString())), dir.resolve("mosquitto.log")));
        awaitPort(net.brokerAddress(), 1883);
        processes.add(host(1, fromPi1, FAST, "0.03", CHAT, SOLO));
        processes.add(host(2, fromPi2, SLOW, "0.5", CHAT, SOLO + ":unloaded"));

        device = TestMqttClient.connect(BrokerAddress.parse("mqtt://" + net.brokerAddress() + ":1883"), "fleet-device");
        replies = device.subscribe(Topics.replies("fleet"));
        BlockingQueue<Mqtt5Publish> status = device.subscribe(Topics.statusAll());
        Thread watcher = new Thread(() -> {
            try {
                while (true) {
                    Mqtt5Publish p = status.take();
                    JobStatus s = WireCodec.decodeStatus(p.getPayloadAsBytes());
                    if (s.state() == JobState.RUNNING) {
                        startedOn.putIfAbsent(s.id(), s.worker());
                    }
                }
            } catch (InterruptedException | RuntimeException e) {
                // the test is over
            }
        }, "status-watch");
        watcher.setDaemon(true);
        watcher.start();
        awaitPhase(FAST + "-" + CHAT, WorkerState.Phase.READY);
        awaitPhase(FAST + "-" + SOLO, WorkerState.Phase.READY);
        awaitPhase(SLOW + "-" + CHAT, WorkerState.Phase.READY);
        awaitPhase(SLOW + "-" + SOLO, WorkerState.Phase.UNLOADED);
    }

    @AfterAll
    void stop() throws Exception {
        if (device != null) {
            device.close();
        }
        for (int i = processes.size() - 1; i >= 0; i--) {
            Process p = processes.get(i);
            p.destroy();
            if (!p.waitFor(20, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        }
        if (net != null) {
            net.close();
        }
    }

    @Test
    @Order(1)
    void aJobNeverWaitsBehindTheSlowPiWhileTheFastOneIdles() throws Exception {
        String slowJob = longJobOnTheSlowPi("busy");
        // Six jobs while pi2 runs its long one and pi1 is free: the broker's round robin gives pi2's intake every other one.
        List<String> ids = IntStream.rangeClosed(1, 6).mapToObj(i -> "quick-" + i).toList();
        ids.forEach(id -> send(CHAT, id));
        Map<String, JobResult> results = collect(ids.size() + 1, Duration.ofSeconds(60));
        List<String> order = new ArrayList<>(results.keySet());
        for (String id : ids) {
            assertEquals(Outcome.DONE, results.get(id).outcome(), id);
            assertEquals(FAST + "-" + CHAT, results.get(id).worker(), id + " ran on the Pi that was free, not behind pi2's job: " + workers(results));
            assertTrue(order.indexOf(id) < order.indexOf(slowJob), id + " was answered before pi2's long job ended: " + order);
        }
        assertEquals(SLOW + "-" + CHAT, results.get(slowJob).worker());
    }

    @Test
    @Order(2)
    void onlyPisWithTheModelLoadedTakeItsJobs() throws Exception {
        List<String> ids = IntStream.rangeClosed(1, 6).mapToObj(i -> "solo-" + i).toList();
        ids.forEach(id -> send(SOLO, id));
        Map<String, JobResult> results = collect(ids.size(), Duration.ofSeconds(60));
        for (String id : ids) {
            assertEquals(Outcome.DONE, results.get(id).outcome(), id);
            assertEquals(FAST + "-" + SOLO, results.get(id).worker(), id + " ran on the Pi that has the model loaded: " + workers(results));
        }
        assertEquals(WorkerState.Phase.UNLOADED, phase(SLOW + "-" + SOLO), "pi2 never loaded " + SOLO + " for jobs pi1 could take");
    }

    @Test
    @Order(3)
    void aPiPulledOffTheNetworkMidJobLosesNothingAndEveryJobIsAnsweredOnce() throws Exception {
        String slowJob = longJobOnTheSlowPi("cut");
        net.cable(2, false);
        List<String> ids = IntStream.rangeClosed(1, 6).mapToObj(i -> "while-away-" + i).toList();
        ids.forEach(id -> send(CHAT, id));
        Map<String, JobResult> early = collect(ids.size() / 2, Duration.ofSeconds(30));
        Thread.sleep(2000);
        assertTrue(early.values().stream().allMatch(r -> r.worker().equals(FAST + "-" + CHAT)), "nothing from pi2 while it is away: " + workers(early));
        net.cable(2, true);
        List<String> all = new ArrayList<>(ids);
        all.add(slowJob);
        Map<String, JobResult> results = new LinkedHashMap<>(early);
        results.putAll(collect(all.size() - early.size(), Duration.ofSeconds(90)));
        for (String id : all) {
            assertTrue(results.containsKey(id), id + " was answered: " + results.keySet());
            assertEquals(Outcome.DONE, results.get(id).outcome(), id);
        }
        assertEquals(SLOW + "-" + CHAT, results.get(slowJob).worker(), "pi2's job ran on pi2 and was answered when it came back");
        assertNull(replies.poll(3, TimeUnit.SECONDS), "every job answered once");
    }

    /** Sends two long jobs at once (the broker gives each Pi one) and returns the one pi2 started. */
    private String longJobOnTheSlowPi(String name) throws Exception {
        send(CHAT, name + "-a");
        send(CHAT, name + "-b");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            for (String id : List.of(name + "-a", name + "-b")) {
                if ((SLOW + "-" + CHAT).equals(startedOn.get(id))) {
                    Map<String, JobResult> fast = collect(1, Duration.ofSeconds(30));
                    assertEquals(FAST + "-" + CHAT, fast.values().iterator().next().worker(), "the other long job ran on pi1: " + workers(fast));
                    return id;
                }
            }
            Thread.sleep(20);
        }
        throw new AssertionError("pi2 started neither long job: " + startedOn);
    }

    /** Which worker answered each job, in the order they were answered. */
    private static Map<String, String> workers(Map<String, JobResult> results) {
        Map<String, String> out = new LinkedHashMap<>();
        results.forEach((id, r) -> out.put(id, r.worker() + " " + r.outcome().wire() + " run_ms=" + r.runMs()));
        return out;
    }

    private void send(String model, String id) {
        device.publish(Topics.jobs(model), "{\"id\":\"" + id + "\",\"reply_to\":\"" + Topics.reply("fleet", id) + "\",\"params\":" + PARAMS + "}");
    }

    /** The next {@code count} results, in the order they arrived; a second answer to a job fails the test. */
    private Map<String, JobResult> collect(int count, Duration wait) throws InterruptedException {
        Map<String, JobResult> out = new LinkedHashMap<>();
        long deadline = System.nanoTime() + wait.toNanos();
        while (out.size() < count && System.nanoTime() < deadline) {
            Mqtt5Publish p = replies.poll(100, TimeUnit.MILLISECONDS);
            if (p != null && WireCodec.decodeReply(p.getPayloadAsBytes()) instanceof JobResult r) {
                assertNull(out.put(r.id(), r), r.id() + " answered twice");
            }
        }
        assertEquals(count, out.size(), "results within " + wait + ": " + out.keySet() + "; started: " + startedOn + logs());
        return out;
    }

    private Process host(int index, String brokerAddress, String name, String timeScale, String... models) throws IOException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx160m",
                "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"), FleetHost.class.getName(), brokerAddress, "1883", name,
                dir.resolve(name).toString(), timeScale));
        command.addAll(List.of(models));
        return start(net.exec(net.pi(index), command), dir.resolve(name + ".log"));
    }

    private static Process start(List<String> command, Path log) throws IOException {
        return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    private static void awaitPort(String host, int port) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(host, port), 500);
                return;
            } catch (IOException e) {
                Thread.sleep(50);
            }
        }
        throw new AssertionError("nothing listens on " + host + ":" + port);
    }

    private final Map<String, WorkerState> states = new HashMap<>();
    private BlockingQueue<Mqtt5Publish> stateFeed;

    private WorkerState.Phase phase(String worker) throws InterruptedException {
        drainStates(0);
        WorkerState s = states.get(worker);
        return s == null ? null : s.phase();
    }

    private void awaitPhase(String worker, WorkerState.Phase phase) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (System.nanoTime() < deadline) {
            drainStates(200);
            WorkerState s = states.get(worker);
            if (s != null && s.phase() == phase) {
                return;
            }
        }
        throw new AssertionError(worker + " not " + phase + " within 90 s: " + states.get(worker) + logs());
    }

    private void drainStates(long waitMs) throws InterruptedException {
        if (stateFeed == null) {
            stateFeed = device.subscribe(Topics.workerStates());
        }
        Mqtt5Publish p = stateFeed.poll(waitMs, TimeUnit.MILLISECONDS);
        while (p != null) {
            if (p.getPayloadAsBytes().length > 0) {
                WorkerState s = WireCodec.decodeWorkerState(p.getPayloadAsBytes());
                states.put(s.worker(), s);
            }
            p = stateFeed.poll();
        }
    }

    private String logs() {
        StringBuilder sb = new StringBuilder();
        for (String name : List.of(FAST, SLOW)) {
            try {
                List<String> lines = Files.readAllLines(dir.resolve(name + ".log"));
                sb.append("\n--- ").append(name).append(".log (last 30 lines)\n")
                        .append(String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size())));
            } catch (IOException e) {
                sb.append("\n(no ").append(name).append(".log)");
            }
        }
        return sb.toString();
    }
}
