package dev.axfleet.monitor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import dev.axfleet.broker.CardCodec;
import dev.axfleet.broker.CardEvent;
import dev.axfleet.broker.CardHealth;
import dev.axfleet.broker.CardState;
import dev.axfleet.broker.Command;
import dev.axfleet.broker.Outcome;
import dev.axfleet.broker.Topics;
import dev.axfleet.broker.WorkerState.Phase;
import dev.axfleet.broker.testing.TestMqttClient;
import dev.axfleet.emulator.card.EmulatedCard;
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
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fault injection on the emulated card with a real worker and the real monitor: overheat, a hung runtime,
 * a lost card, a reboot that fails once, a card that never comes back, CMM full, and a reset on request.
 * No job may be lost or answered twice.
 */
class CardRecoveryTest {
    private static final Duration ANSWER = Duration.ofSeconds(60);

    @TempDir
    Path dir;
    CardFixture f;

    @BeforeEach
    void setUp() {
        f = new CardFixture(dir);
    }

    @AfterEach
    void tearDown() {
        f.close();
    }

    @Test
    void overheatPausesIntakeKeepsJobsQueuedAndResumesBelowTheResumeThreshold() throws Exception {
        f.startWorker(Map.of());
        f.startMonitor(Map.of());
        f.awaitWorker("ready", w -> w.phase() == Phase.READY);
        f.awaitCard("ok", h -> h.state() == CardState.OK && h.readings().temperatureC() == 41.0 && h.emulated());

        f.card.setTemperature(85);
        f.awaitCard("hot", h -> h.state() == CardState.HOT);
        List<BlockingQueue<Mqtt5Publish>> inboxes = List.of(f.send("hot-1"), f.send("hot-2"), f.send("hot-3"));
        f.awaitWorker("held", w -> w.held() != null && w.held().contains("hot") && w.queued() == 1);
        assertNull(inboxes.get(0).poll(1500, TimeUnit.MILLISECONDS), "no job runs while the card is hot");

        f.card.setTemperature(75);
        f.awaitCard("still hot between the thresholds", h -> h.readings().temperatureC() == 75.0);
        assertEquals(CardState.HOT, f.awaitCard("hot at 75", h -> true).state(), "hysteresis: hot until below 70 °C");

        f.card.setTemperature(65);
        f.awaitCard("ok again", h -> h.state() == CardState.OK);
        for (int i = 0; i < inboxes.size(); i++) {
            TestMqttClient.Answer a = TestMqttClient.await(inboxes.get(i), ANSWER);
            assertEquals(Outcome.DONE, a.result().outcome(), "hot-" + (i + 1));
            assertNull(inboxes.get(i).poll(300, TimeUnit.MILLISECONDS), "answered once");
        }
        assertNull(f.awaitWorker("taking jobs again", w -> w.held() == null).held());
    }

    @Test
    void aHungRuntimeIsRestartedAndItsJobAnsweredOnceAndCountedAsAStrike() throws Exception {
        f.startWorker(Map.of());
        f.startMonitor(Map.of("monitor.strikes", "1"));
        f.awaitWorker("ready", w -> w.phase() == Phase.READY);
        f.awaitCard("ok", h -> h.state() == CardState.OK);
        HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + f.runtimePort + "/_emulator/fault"))
                .POST(HttpRequest.BodyPublishers.ofString("{\"mode\":\"hang\",\"after_tokens\":0}")).build(),
                HttpResponse.BodyHandlers.ofString());

        BlockingQueue<Mqtt5Publish> inbox = f.send("hung-1");
        TestMqttClient.Answer a = TestMqttClient.await(inbox, ANSWER);
        assertEquals(Outcome.DONE, a.result().outcome());
        assertNull(inbox.poll(1000, TimeUnit.MILLISECONDS), "answered once");
        assertTrue(f.awaitWorker("struck", w -> w.strikes() >= 1).lastError().contains("hung-1"));
        f.awaitEvent("restart-runtimes", "ok");
        f.awaitEvent("recovered", "ok");
        assertEquals(0, f.card.snapshot().reboots(), "a runtime problem does not reboot the card");
    }

    @Test
    void aLostCardIsRebootedAndTheWorkerReloadsAndAnswersTheQueuedJobs() throws Exception {
        f.startWorker(Map.of());
        f.startMonitor(Map.of());
        f.awaitWorker("ready", w -> w.phase() == Phase.READY);
        f.awaitCard("ok", h -> h.state() == CardState.OK);

        f.card.lose();
        CardHealth lost = f.awaitCard("lost", h -> h.state() == CardState.LOST);
        assertTrue(lost.detail().contains("0x8030010b"), lost.detail());
        List<BlockingQueue<Mqtt5Publish>> inboxes = List.of(f.send("lost-1"), f.send("lost-2"));
        f.awaitWorker("paused", w -> w.phase() == Phase.PAUSED && w.runtimePids().isEmpty());

        f.awaitEvent("restart-runtimes", "failed");
        f.awaitEvent("card-reboot", "started");
        f.awaitCard("resetting", h -> h.state() == CardState.RESETTING);
        f.awaitEvent("card-reboot", "ok");
        f.awaitEvent("recovered", "ok");
        f.awaitWorker("ready again", w -> w.phase() == Phase.READY);
        for (BlockingQueue<Mqtt5Publish> inbox : inboxes) {
            assertEquals(Outcome.DONE, TestMqttClient.await(inbox, ANSWER).result().outcome());
        }
        assertEquals(1, f.card.snapshot().reboots());
    }

    @Test
    void aHungCardTimesTheProbeOutAndIsRebooted() throws Exception {
        f.startMonitor(Map.of("monitor.probe_timeout", "2s"));
        f.awaitCard("ok", h -> h.state() == CardState.OK);
        f.card.hang();
        CardHealth lost = f.awaitCard("lost", h -> h.state() == CardState.LOST);
        assertTrue(lost.detail().contains("did not answer within 2000 ms"), lost.detail());
        f.awaitEvent("card-reboot", "ok");
        f.awaitCard("ok again", h -> h.state() == CardState.OK);
        assertEquals(1, f.card.snapshot().reboots());
    }

    @Test
    void recoveriesAreLimitedPerWindowThenAPersonIsNeeded() throws Exception {
        f.startMonitor(Map.of("monitor.max_recoveries", "1"));
        f.awaitCard("ok", h -> h.state() == CardState.OK);
        f.card.lose();
        f.awaitEvent("recovered", "ok");
        f.awaitCard("ok", h -> h.state() == CardState.OK);
        f.card.lose();
        CardEvent limited = f.awaitEvent("needs-person", "failed");
        assertTrue(limited.detail().contains("recovery ran 1 times within PT1H"), limited.detail());
        assertEquals(1, f.card.snapshot().reboots(), "no second reboot within the window");
    }

    @Test
    void aRebootThatFailsOnceIsTriedAgain() throws Exception {
        f.startMonitor(Map.of());
        f.awaitCard("ok", h -> h.state() == CardState.OK);
        f.card.failReboots(1);
        f.card.lose();
        f.awaitEvent("card-reboot", "retry");
        f.awaitEvent("card-reboot", "ok");
        f.awaitEvent("recovered", "ok");
        assertEquals(2, f.card.snapshot().reboots());
        f.awaitCard("ok", h -> h.state() == CardState.OK && h.needsPerson() == null);
    }

    @Test
    void aCardThatNeverComesBackStopsTheClimbAndNeedsAPerson() throws Exception {
        f.startWorker(Map.of());
        f.startMonitor(Map.of());
        f.awaitWorker("ready", w -> w.phase() == Phase.READY);
        f.card.cureAt(EmulatedCard.Cure.NEVER);
        f.card.lose();
        f.awaitWorker("paused", w -> w.phase() == Phase.PAUSED);
        BlockingQueue<Mqtt5Publish> inbox = f.send("never-1");

        CardEvent needs = f.awaitEvent("needs-person", "failed");
        assertTrue(needs.detail().contains("power-cycle"), needs.detail());
        f.awaitEvent("driver-reload", "failed");
        f.awaitEvent("host-reboot", "skipped");
        CardHealth h = f.awaitCard("marked", c -> c.needsPerson() != null);
        assertEquals(CardState.LOST, h.state());
        int reboots = f.card.snapshot().reboots();
        assertEquals(2, reboots, "monitor.reboot_attempts");
        assertEquals(1, f.card.snapshot().reloads());

        List<CardEvent> later = f.eventsWithin(Duration.ofSeconds(4));
        long starts = later.stream().filter(e -> e.result().equals("started") && e.step().equals("card-reboot")).count();
        assertEquals(1, starts, "no second climb: " + later);
        assertEquals(reboots, f.card.snapshot().reboots());
        assertNull(inbox.poll(100, TimeUnit.MILLISECONDS), "the job waits in the queue, unanswered but not lost");
        assertTrue(f.awaitWorker("holding it", w -> w.queued() == 1 && w.held() != null).held().contains("lost"));
    }

    @Test
    void aResetCanBeRequestedOnTheControlTopic() throws Exception {
        f.startMonitor(Map.of());
        f.awaitCard("ok", h -> h.state() == CardState.OK);
        f.device.publish(Topics.cardControl(CardFixture.CARD),
                new String(CardCodec.encodeCommand(new Command(Command.RESET, "test", "operator", Instant.now())), StandardCharsets.UTF_8));
        assertTrue(f.awaitEvent("reset-requested", "started").detail().contains("operator"));
        f.awaitEvent("card-reboot", "ok");
        assertEquals(1, f.card.snapshot().reboots());
        f.device.publish(Topics.cardControl(CardFixture.CARD), "{\"action\":\"format-disk\"}");
        f.awaitEvent("reset-requested", "skipped");
        f.device.publish(Topics.cardControl(CardFixture.CARD), "not json");
        assertEquals(1, f.card.snapshot().reboots(), "unknown and unreadable requests do nothing");
    }

    @Test
    void aModelIsNotStartedWhileTheCardLacksTheCmmForIt() throws Exception {
        f.card.reserveCmm(6_000L * 1024);
        f.startMonitor(Map.of());
        CardHealth full = f.awaitCard("full", h -> h.readings().cmmUsedMiB() != null && h.readings().cmmUsedMiB() > 6000);
        assertNotNull(full.readings().cmmFreeMiB());
        f.startWorker(Map.of("runtime.cmm_mib", "3300"));
        assertTrue(f.awaitWorker("refused", w -> w.lastError() != null && w.lastError().contains("not enough free CMM"))
                .runtimePids().isEmpty());
        f.card.reserveCmm(0);
        f.awaitWorker("ready", w -> w.phase() == Phase.READY);
        assertEquals(1, f.card.snapshot().users().size(), "the runtime holds the card");
    }
}
