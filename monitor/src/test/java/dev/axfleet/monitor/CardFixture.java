package dev.axfleet.monitor;

import static org.junit.jupiter.api.Assertions.fail;

import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import dev.axfleet.broker.CardCodec;
import dev.axfleet.broker.CardEvent;
import dev.axfleet.broker.CardHealth;
import dev.axfleet.broker.CardRef;
import dev.axfleet.broker.Topics;
import dev.axfleet.broker.WireCodec;
import dev.axfleet.broker.WorkerState;
import dev.axfleet.broker.testing.TestBroker;
import dev.axfleet.broker.testing.TestMqttClient;
import dev.axfleet.config.Settings;
import dev.axfleet.emulator.EmulatedModel;
import dev.axfleet.emulator.card.EmulatedCard;
import dev.axfleet.worker.Worker;
import dev.axfleet.worker.WorkerConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Collectors;

/**
 * A broker, an emulated card, a real worker whose emulated runtime uses that card, and a real monitor
 * probing it with the axcl-smi stand-in: the parts of one Pi, fast (time scale 0.01, sub-second probes).
 */
final class CardFixture implements AutoCloseable {
    static final String HOST = "test-pi";
    static final CardRef CARD = new CardRef(HOST, 0);
    static final String MODEL = "qwen3-1.7b";
    static final Duration WAIT = Duration.ofSeconds(60);

    final TestBroker broker;
    final EmulatedCard card;
    final TestMqttClient device;
    final BlockingQueue<Mqtt5Publish> health;
    final BlockingQueue<Mqtt5Publish> events;
    final BlockingQueue<Mqtt5Publish> workerStates;
    final int runtimePort;
    private final Path dir;
    private final List<CardEvent> seenEvents = new ArrayList<>();
    private WorkerState lastWorker;
    private CardHealth lastHealth;
    Worker worker;
    Monitor monitor;

    CardFixture(Path dir) {
        this.dir = dir;
        this.broker = TestBroker.embedded(dir.resolve("broker"));
        this.card = EmulatedCard.create(dir.resolve("card"));
        card.rebootTakes(500);
        this.device = TestMqttClient.connect(broker.address(), "device");
        this.health = device.subscribe(Topics.card(CARD));
        this.events = device.subscribe(Topics.cardEvents(CARD));
        this.workerStates = device.subscribe(Topics.workerState(MODEL, "w1"));
        this.runtimePort = TestBroker.freePort();
    }

    String brokerUrl() {
        return "mqtt://" + broker.address().host() + ":" + broker.address().port();
    }

    void startWorker(Map<String, String> extra) {
        Path modelDir = EmulatedModel.writeModelDir(dir.resolve("models"), MODEL, "Qwen3-1.7B");
        String command = EmulatedModel.axllmServe(modelDir, runtimePort).stream().map(a -> "'" + a + "'").collect(Collectors.joining(" "));
        Map<String, String> s = new HashMap<>(Map.of(
                "worker.model", MODEL,
                "worker.id", "w1",
                "worker.state_dir", dir.resolve("worker").toString(),
                "broker.url", brokerUrl(),
                "runtime.model_dir", modelDir.toString(),
                "runtime.port", String.valueOf(runtimePort),
                "runtime.command", command,
                "runtime.env", "AXFLEET_EMULATOR_TIME_SCALE=0.01 AXFLEET_EMULATOR_CARD=" + card.dir(),
                "card.host", HOST,
                "worker.health_interval", "200ms"));
        s.putAll(Map.of("worker.card_stale", "10s", "runtime.stall_timeout", "1s", "runtime.first_token_timeout", "3s",
                "runtime.load_timeout", "20s", "runtime.stop_grace", "3s"));
        s.putAll(extra);
        WorkerConfig wc = WorkerConfig.from(Settings.of(s));
        worker = new Worker(wc, wc.runtime().create());
        worker.start();
    }

    void startMonitor(Map<String, String> extra) {
        Map<String, String> s = new HashMap<>(Map.of(
                "card.host", HOST,
                "broker.url", brokerUrl(),
                "monitor.axcl_smi", card.axclSmi().toString(),
                "monitor.interval", "300ms",
                "monitor.probe_timeout", "4s",
                "monitor.lost_after", "2",
                "monitor.boot_grace", "0s",
                "monitor.settle", "1s",
                "monitor.reboot_wait", "8s",
                "monitor.emulated", "true"));
        s.putAll(Map.of(
                "monitor.reload_wait", "5s",
                "monitor.modprobe", card.modprobe().toString(),
                "monitor.driver_reload", "on",
                "monitor.device_node", card.deviceNode().toString(),
                "monitor.stop_grace", "3s"));
        s.putAll(extra);
        monitor = new Monitor(MonitorConfig.from(Settings.of(s)));
        monitor.start();
    }

    /** Waits for a worker state matching {@code p}; returns it. */
    WorkerState awaitWorker(String what, Predicate<WorkerState> p) throws InterruptedException {
        if (lastWorker != null && p.test(lastWorker)) {
            return lastWorker;
        }
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            Mqtt5Publish m = workerStates.poll(200, TimeUnit.MILLISECONDS);
            if (m != null && m.getPayloadAsBytes().length > 0) {
                lastWorker = WireCodec.decodeWorkerState(m.getPayloadAsBytes());
                if (p.test(lastWorker)) {
                    return lastWorker;
                }
            }
        }
        return fail("worker never " + what + "; last state " + lastWorker);
    }

    CardHealth awaitCard(String what, Predicate<CardHealth> p) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            Mqtt5Publish m = health.poll(200, TimeUnit.MILLISECONDS);
            if (m != null) {
                lastHealth = CardCodec.decodeHealth(m.getPayloadAsBytes());
                if (p.test(lastHealth)) {
                    return lastHealth;
                }
            }
        }
        return fail("card never " + what + "; last health " + lastHealth);
    }

    /** Waits for an event with this step and result, remembering every event seen on the way. */
    CardEvent awaitEvent(String step, String result) throws InterruptedException {
        for (CardEvent e : seenEvents) {
            if (e.step().equals(step) && e.result().equals(result)) {
                return e;
            }
        }
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            Mqtt5Publish m = events.poll(200, TimeUnit.MILLISECONDS);
            if (m != null) {
                CardEvent e = CardCodec.decodeEvent(m.getPayloadAsBytes());
                seenEvents.add(e);
                if (e.step().equals(step) && e.result().equals(result)) {
                    return e;
                }
            }
        }
        return fail("no event " + step + "/" + result + "; seen " + seenEvents);
    }

    /** Every event seen so far plus those arriving within {@code quiet}. */
    List<CardEvent> eventsWithin(Duration quiet) throws InterruptedException {
        long deadline = System.nanoTime() + quiet.toNanos();
        while (System.nanoTime() < deadline) {
            Mqtt5Publish m = events.poll(100, TimeUnit.MILLISECONDS);
            if (m != null) {
                seenEvents.add(CardCodec.decodeEvent(m.getPayloadAsBytes()));
            }
        }
        return List.copyOf(seenEvents);
    }

    /** Publishes a job as a device would; returns its reply inbox. */
    BlockingQueue<Mqtt5Publish> send(String id) {
        String reply = Topics.reply("device", id);
        BlockingQueue<Mqtt5Publish> inbox = device.subscribe(reply);
        device.publish(Topics.jobs(MODEL), "{\"id\":\"" + id + "\",\"reply_to\":\"" + reply + "\",\"params\":{\"prompt\":\"Hello " + id
                + "\",\"max_tokens\":8}}");
        return inbox;
    }

    @Override
    public void close() {
        if (monitor != null) {
            monitor.close();
        }
        if (worker != null) {
            worker.close();
        }
        device.close();
        broker.close();
    }
}
