package dev.axfleet.deploy;

import static dev.axfleet.deploy.TestFleets.json;
import static dev.axfleet.deploy.TestFleets.node;
import static dev.axfleet.deploy.TestFleets.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import dev.axfleet.broker.JobResult;
import dev.axfleet.broker.Outcome;
import dev.axfleet.broker.Topics;
import dev.axfleet.broker.WireCodec;
import dev.axfleet.broker.testing.TestBroker;
import dev.axfleet.broker.testing.TestMqttClient;
import dev.axfleet.config.Settings;
import dev.axfleet.emulator.card.EmulatedCard;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Models that come and go on the emulated card, through a fleet as {@code ./axfleet up} starts it (with its monitor
 * reading the card) and the official ollama JavaScript client: {@code ps} shows expiry and size; {@code keep_alive: 0}
 * unloads and the card's CMM comes back; an empty prompt loads; a model that does not fit unloads the least recently used
 * idle one, or is refused naming what holds the card; a job sent during a swap is answered after it, once.
 *
 * <p>The card holds qwen3-0.6b (1972 MiB) and qwen3-1.7b (3375 MiB, pinned) from the start; spare-0.6b (1972 MiB) and
 * qwen3-4b (6349 MiB) load when asked. 7040 MiB less the card's own 18 and the 256 kept free leave room for two of them.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ResidencyTest {
    static final long MIB_KIB = 1024;
    @TempDir
    static Path dir;
    static TestBroker broker;
    static Fleet fleet;
    static String base;
    static EmulatedCard card;
    static Path adminToken;
    static long idleCmmKiB;

    @BeforeAll
    static void start() throws Exception {
        List<String> node = node();
        broker = TestBroker.embedded(dir.resolve("broker"));
        adminToken = dir.resolve("admin-token");
        Files.writeString(adminToken, "residency-test-admin-token");
        Files.setPosixFilePermissions(adminToken, PosixFilePermissions.fromString("rw-------"));
        Map<String, String> s = new HashMap<>(Map.of(
                "fleet.home", dir.resolve("home").toString(),
                "fleet.emulate", "true",
                "fleet.image_model", "",
                "fleet.models", "qwen3-0.6b=Qwen3-0.6B,qwen3-1.7b=Qwen3-1.7B,spare-0.6b=Qwen3-0.6B,qwen3-4b=Qwen3-4B",
                "models.preload", "qwen3-0.6b,qwen3-1.7b",
                "models.pinned", "qwen3-1.7b",
                "emulator.time_scale", "0.02",
                "broker.url", "mqtt://127.0.0.1:" + broker.address().port(),
                "gateway.port", "0",
                "gateway.admin_token_file", adminToken.toString()));
        s.putAll(Map.of("monitor.probe", "libaxcl", "monitor.interval", "200ms", "models.evict_wait", "20s"));
        fleet = Fleet.start(FleetConfig.from(Settings.of(s)));
        base = "http://127.0.0.1:" + fleet.gatewayPort();
        card = EmulatedCard.open(dir.resolve("home/emulated-card"));
        TestFleets.awaitHealthy(base);
        awaitTrue("both preloaded models on the card", () -> names(ps()).containsAll(List.of("qwen3-0.6b:latest", "qwen3-1.7b:latest")));
        idleCmmKiB = card.snapshot().cmmUsedKiB() - (1972 + 3375) * MIB_KIB;
        assertTrue(node.size() > 0);
    }

    @AfterAll
    static void stop() {
        if (fleet != null) {
            fleet.close();
        }
        if (broker != null) {
            broker.close();
        }
    }

    static JsonObject ollama(String... args) throws Exception {
        List<String> a = new ArrayList<>(List.of(base));
        a.addAll(List.of(args));
        return json(run(node(), "residency-clients.mjs", a.toArray(String[]::new)));
    }

    static JsonObject ps() throws Exception {
        return ollama("ps");
    }

    static List<String> names(JsonObject ps) {
        List<String> out = new ArrayList<>();
        ps.getAsJsonArray("models").forEach(m -> out.add(m.getAsJsonObject().get("name").getAsString()));
        return out;
    }

    static JsonObject entry(JsonObject ps, String name) {
        for (JsonElement m : ps.getAsJsonArray("models")) {
            if (m.getAsJsonObject().get("name").getAsString().equals(name)) {
                return m.getAsJsonObject();
            }
        }
        throw new AssertionError(name + " not in ps: " + ps);
    }

    /** The card's CMM in use now, in MiB above what it uses with no model loaded. */
    static long modelsCmmMiB() {
        return (card.snapshot().cmmUsedKiB() - idleCmmKiB) / MIB_KIB;
    }

    static void awaitTrue(String what, BooleanSupplierE condition) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!condition.get()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within 30 s: " + what);
            }
            Thread.sleep(100);
        }
    }

    interface BooleanSupplierE {
        boolean get() throws Exception;
    }

    static CliResult cli(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Axfleet.run(args, Settings.of(Map.of("gateway.port", String.valueOf(fleet.gatewayPort()),
                "gateway.admin_token_file", adminToken.toString())), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new CliResult(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    record CliResult(int code, String out, String err) {
    }

    /** Polls /api/ps (plain HTTP, often) until it lists {@code model} as loading; returns its entry. */
    static JsonObject awaitLoading(String model) throws Exception {
        java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            String body = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(base + "/api/ps")).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString()).body();
            for (JsonElement m : json(body).getAsJsonArray("models")) {
                JsonObject o = m.getAsJsonObject();
                if (o.get("name").getAsString().equals(model + ":latest") && o.has("loading")) {
                    return o;
                }
            }
            Thread.sleep(10);
        }
        throw new AssertionError(model + " never listed as loading in /api/ps");
    }

    @Test
    @Order(1)
    void psShowsEachLoadedModelWithItsExpiryAndItsCardMemory() throws Exception {
        JsonObject ps = ps();
        assertFalse(names(ps).contains("spare-0.6b:latest"), "not preloaded, so not on the card: " + ps);
        assertEquals(1972L * 1024 * 1024, entry(ps, "qwen3-0.6b:latest").get("size_vram").getAsLong(), ps.toString());
        assertEquals(3375L * 1024 * 1024, entry(ps, "qwen3-1.7b:latest").get("size_vram").getAsLong(), ps.toString());
        assertTrue(Instant.parse(entry(ps, "qwen3-1.7b:latest").get("expires_at").getAsString()).isAfter(Instant.now().plus(Duration.ofDays(36_500))),
                "a preloaded model is kept for ever (Ollama's far future): " + ps);
        assertEquals(1972 + 3375, modelsCmmMiB(), "the emulated card holds both");
        JsonObject chat = ollama("chat", "qwen3-0.6b", "10m");
        assertEquals("stop", chat.get("done_reason").getAsString(), chat.toString());
        Instant expires = Instant.parse(entry(ps(), "qwen3-0.6b:latest").get("expires_at").getAsString());
        assertTrue(expires.isAfter(Instant.now().plus(Duration.ofMinutes(9))) && expires.isBefore(Instant.now().plus(Duration.ofMinutes(11))),
                "keep_alive 10m: it expires 10 minutes after its last use, " + expires);
    }

    @Test
    @Order(2)
    void keepAliveZeroUnloadsAndTheCardsMemoryComesBack() throws Exception {
        JsonObject unload = ollama("unload", "qwen3-0.6b");
        assertEquals("unload", unload.get("done_reason").getAsString(), unload.toString());
        awaitTrue("qwen3-0.6b gone from ps", () -> !names(ps()).contains("qwen3-0.6b:latest"));
        awaitTrue("its 1972 MiB free on the card again", () -> modelsCmmMiB() == 3375);
        JsonObject pinned = ollama("unload-chat", "qwen3-1.7b");
        assertEquals(409, pinned.get("status").getAsInt(), "a pinned model is not unloaded on request: " + pinned);
        assertTrue(pinned.get("error").getAsString().contains("pinned"), pinned.toString());
        assertEquals(3375, modelsCmmMiB());
    }

    @Test
    @Order(3)
    void anEmptyPromptLoadsTheModel() throws Exception {
        JsonObject load = ollama("load", "qwen3-0.6b");
        assertEquals("load", load.get("done_reason").getAsString(), load.toString());
        assertTrue(load.get("load_duration").getAsLong() > 0, "it was loaded by this call: " + load);
        assertTrue(names(ps()).contains("qwen3-0.6b:latest"));
        assertEquals(1972 + 3375, modelsCmmMiB(), "the card's CMM went down by its footprint");
        JsonObject again = ollama("load", "qwen3-0.6b");
        assertEquals("load", again.get("done_reason").getAsString());
        assertEquals(0, again.get("load_duration").getAsLong(), "loaded already: " + again);
    }

    @Test
    @Order(4)
    void loadingAModelThatDoesNotFitUnloadsTheLeastRecentlyUsedIdleOneOrSaysWhatHoldsTheCard() throws Exception {
        java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
        java.net.http.HttpResponse<String> anonymous = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(base + "/v1/models/load"))
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{\"model\":\"spare-0.6b\"}")).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertEquals(401, anonymous.statusCode(), "the admin token is needed: " + anonymous.body());
        java.net.http.HttpResponse<String> badKeep = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(base + "/v1/models/load"))
                .header("Authorization", "Bearer " + Files.readString(adminToken))
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{\"model\":\"spare-0.6b\",\"keep_alive\":\"soon\"}")).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertEquals(400, badKeep.statusCode(), badKeep.body());
        assertEquals("keep_alive", json(badKeep.body()).getAsJsonObject("error").get("param").getAsString(), badKeep.body());
        // qwen3-0.6b was used last (loaded above); using it again makes no difference: qwen3-1.7b is pinned anyway.
        CliResult load = cli("load", "spare-0.6b", "--keep-alive", "-1");
        assertEquals(0, load.code(), load.out() + load.err());
        assertTrue(load.out().contains("spare-0.6b is loaded on local-spare-0.6b"), load.out());
        JsonObject ps = ps();
        assertTrue(names(ps).contains("spare-0.6b:latest") && !names(ps).contains("qwen3-0.6b:latest"), "qwen3-0.6b made room: " + ps);
        assertEquals(1972 + 3375, modelsCmmMiB(), "one swapped for the other on the card");
        CliResult big = cli("load", "qwen3-4b");
        assertEquals(1, big.code(), big.out() + big.err());
        assertTrue(big.err().contains("insufficient card memory") && big.err().contains("qwen3-1.7b 3375 MiB (pinned)"), big.err());
        assertTrue(names(ps()).contains("spare-0.6b:latest"), "nothing was unloaded for a model that could not fit anyway");
        CliResult pinned = cli("unload", "qwen3-1.7b");
        assertEquals(1, pinned.code());
        assertTrue(pinned.err().contains("pinned"), pinned.err());
    }

    @Test
    @Order(5)
    void aJobSentDuringASwapIsAnsweredAfterItAndOnce() throws Exception {
        try (TestMqttClient device = TestMqttClient.connect(broker.address(), "lamp-swap")) {
            BlockingQueue<Mqtt5Publish> inbox = device.subscribe("lamps/swap/+");
            // qwen3-0.6b is not on the card: its job swaps it in for spare-0.6b, the only idle model not pinned.
            device.publish(Topics.jobs("qwen3-0.6b"), "{\"id\":\"s1\",\"reply_to\":\"lamps/swap/s1\",\"params\":{\"prompt\":\"One\"}}");
            JsonObject loading = awaitLoading("qwen3-0.6b");
            assertTrue(Instant.parse(loading.get("loading_since").getAsString()).isBefore(Instant.now()), loading.toString());
            awaitTrue("the swap under way", () -> !names(ps()).contains("spare-0.6b:latest"));
            // Sent during the swap, for the model being swapped out: it waits in the broker and is answered once its model is back.
            device.publish(Topics.jobs("spare-0.6b"), "{\"id\":\"s2\",\"reply_to\":\"lamps/swap/s2\",\"params\":{\"prompt\":\"Two\"}}");
            List<String> order = new ArrayList<>();
            Map<String, Integer> count = new HashMap<>();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            boolean settled = false;
            while (System.nanoTime() < deadline) {
                Mqtt5Publish p = inbox.poll(200, TimeUnit.MILLISECONDS);
                if (p != null && WireCodec.decodeReply(p.getPayloadAsBytes()) instanceof JobResult r) {
                    assertEquals(Outcome.DONE, r.outcome(), r.toString());
                    order.add(r.id());
                    count.merge(r.id(), 1, Integer::sum);
                }
                if (count.size() == 2 && !settled) {
                    settled = true;
                    deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(3); // then 3 s more, for any second answer
                }
            }
            assertEquals(Map.of("s1", 1, "s2", 1), count, "each answered exactly once");
            assertEquals(List.of("s1", "s2"), order, "the job sent during the swap after it");
            JsonObject ps = ps();
            assertTrue(names(ps).contains("spare-0.6b:latest") && names(ps).contains("qwen3-1.7b:latest"), ps.toString());
            awaitTrue("the card holds what ps says", () -> modelsCmmMiB() == 1972 + 3375);
        }
    }

    @Test
    @Order(6)
    void planSaysWhatLoadingAModelNowWouldUnload() throws Exception {
        CliResult swap = cli("plan", "qwen3-0.6b");
        assertEquals(0, swap.code(), swap.out() + swap.err());
        assertTrue(swap.out().contains("from M5 docs qwen3_0.6b"), "each footprint with its source: " + swap.out());
        assertTrue(swap.out().contains("qwen3-1.7b 3375 MiB (pinned)") && swap.out().contains("spare-0.6b 1972 MiB"), swap.out());
        assertTrue(swap.out().contains("qwen3-0.6b: would unload spare-0.6b"), swap.out());
        CliResult big = cli("plan", "minicpm4-0.5b", "qwen3-4b");
        assertTrue(big.out().contains("qwen3-4b: cannot be loaded now") && big.out().contains("qwen3-1.7b 3375 MiB (pinned)"), "out: " + big.out());
        assertTrue(big.out().contains("minicpm4-0.5b: no worker of it on this card"), "out: " + big.out());
        CliResult together = cli("plan", "--offline", "qwen3-1.7b", "qwen3-4b");
        assertEquals(1, together.code(), "they do not fit together: " + together.out());
        assertFalse(together.out().contains("card "), "--offline asks the fleet nothing: " + together.out());
        assertEquals(1972 + 3375, modelsCmmMiB(), "a plan changes nothing");
    }
}
